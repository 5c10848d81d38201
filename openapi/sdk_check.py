"""Generate the Python SDK from the committed OpenAPI document and drive a live server with it.

usage: sdk_check.py BASE_URL WORK_DIR
Proves that openapi-python-client accepts the document and that the typed client it produces
parses real responses (sign up, who am I, create and list orgs, a problem response).
"""
import importlib
import os
import subprocess
import sys

base_url, work_dir = sys.argv[1], sys.argv[2]
spec = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guildhall.json")
out = os.path.join(work_dir, "guildhall-client")
subprocess.run(
    [sys.executable, "-m", "openapi_python_client", "generate", "--path", spec, "--output-path", out, "--overwrite"],
    check=True,
    capture_output=True,
)
sys.path.insert(0, out)
client_mod = importlib.import_module("guildhall_client")
models = importlib.import_module("guildhall_client.models")
signup = importlib.import_module("guildhall_client.api.auth.signup")
get_me = importlib.import_module("guildhall_client.api.auth.get_me")
create_org = importlib.import_module("guildhall_client.api.orgs.create_org")
list_orgs = importlib.import_module("guildhall_client.api.orgs.list_orgs")
login = importlib.import_module("guildhall_client.api.auth.login")

anon = client_mod.Client(base_url=base_url, raise_on_unexpected_status=True)
created = signup.sync(client=anon, body=models.SignupRequest(email="sdk@example.com", password="correct horse battery"))
assert isinstance(created, models.TokenResponse), created
authed = client_mod.AuthenticatedClient(base_url=base_url, token=created.access_token, raise_on_unexpected_status=True)
me = get_me.sync(client=authed)
assert me.user.email == "sdk@example.com" and me.org.role == "owner", me
org = create_org.sync(client=authed, body=models.CreateOrgRequest(name="SDK Org", slug="sdk-org"))
assert org.org.slug == "sdk-org" and org.org.effective_auth_settings.password_min_length == 10, org
page = list_orgs.sync(client=authed, order=models.OrgOrder.NAME)
assert [o.name for o in page.data] == ["SDK Org", "sdk's organization"], page
problem = login.sync_detailed(client=anon, body=models.LoginRequest(email="sdk@example.com", password="wrong password"))
assert problem.status_code == 401 and problem.parsed.code == "INVALID_CREDENTIALS", problem
print("sdk ok")
