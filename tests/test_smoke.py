from tests.fixtures import login


def test_login_page_renders(client):
    response = client.get("/masuk")
    assert response.status_code == 200
    assert "Masuk" in response.get_data(as_text=True) or "Sign in" in response.get_data(as_text=True)


def test_admin_signs_in(client, admin_user):
    login(client, admin_user)
    assert client.get("/beranda").status_code == 200
