"""Hooking the evaluation area into the application (called by ``procurement.create_app``)."""


def init_app(app) -> None:
    from evaluation import payment_views, scheme_views, views

    for blueprint in (views.bp, scheme_views.bp, payment_views.bp):
        app.register_blueprint(blueprint)
    from evaluation import bulk_views
    from evaluation.cli import expire_downloads_command, render_evaluation_command

    app.register_blueprint(bulk_views.bp)
    app.cli.add_command(render_evaluation_command)
    app.cli.add_command(expire_downloads_command)
