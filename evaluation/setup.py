"""Hooking the evaluation area into the application (called by ``procurement.create_app``)."""


def init_app(app) -> None:
    from evaluation import payment_views, scheme_views, views

    for blueprint in (views.bp, scheme_views.bp, payment_views.bp):
        app.register_blueprint(blueprint)
