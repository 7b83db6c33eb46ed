from procurement.auth.roles import Role
from tests.factories import login_as, make_item, make_list, make_user


def test_officer_sees_county_list(app, client):
    officer = make_user(Role.OFFICER)
    lst = make_list()
    make_item(lst, name="居家上门照料服务")
    login_as(client, officer)
    response = client.get("/catalog/")
    assert response.status_code == 200
    assert "居家上门照料服务" in response.get_data(as_text=True)
