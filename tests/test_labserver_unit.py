"""The server extension in a jupyter server of its own (pytest-jupyter's jp_fetch)."""

import json

import pytest
from labdeck.net import free_port
from tornado import web
from tornado.httpclient import HTTPClientError

pytest_plugins = ["pytest_jupyter.jupyter_server"]


class EchoService(web.RequestHandler):
    """Stands in for the labdeck service: echoes what the extension sent."""

    def _echo(self, path):
        self.set_status(201 if self.request.method == "POST" else 200)
        self.set_header("Content-Type", "application/json")
        self.finish(
            json.dumps(
                {
                    "method": self.request.method,
                    "path": path,
                    "query": self.request.query,
                    "authorization": self.request.headers.get("Authorization"),
                    "body": self.request.body.decode(),
                }
            )
        )

    get = post = put = delete = _echo


@pytest.fixture
def service_url(jp_asyncio_loop):
    port = free_port()

    async def listen():
        # on the loop jp_fetch runs on, so both ends share one event loop
        app = web.Application([(r"/services/labdeck/api/v1/(.*)", EchoService)])
        return app.listen(port, "127.0.0.1")

    server = jp_asyncio_loop.run_until_complete(listen())
    yield f"http://127.0.0.1:{port}/services/labdeck/"
    server.stop()


@pytest.fixture
def jp_server_config(service_url):
    return {
        "ServerApp": {
            "jpserver_extensions": {"labdeck": True},
            "allow_unauthenticated_access": False,
        },
        "LabdeckServerExtension": {"service_url": service_url, "hub_api_token": "server-token"},
    }


async def test_forwards_verb_path_query_body_and_token(jp_fetch):
    response = await jp_fetch(
        "labdeck", "api", "v1", "clusters", method="POST", body='{"workers": 2}', params={"a": "1"}
    )
    assert response.code == 201
    echoed = json.loads(response.body)
    assert echoed == {
        "method": "POST",
        "path": "clusters",
        "query": "a=1",
        "authorization": "token server-token",
        "body": '{"workers": 2}',
    }


async def test_refuses_a_user_who_is_not_the_owner(jp_fetch, jp_serverapp):
    jp_serverapp.extension_manager.extension_apps["labdeck"].pop().owner = "someone-else"
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("labdeck", "api", "v1", "me")
    assert error.value.code == 403
    assert json.loads(error.value.response.body)["error"] == "forbidden"


async def test_refuses_requests_without_credentials(jp_fetch):
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("labdeck", "api", "v1", "me", headers={"Authorization": ""})
    assert error.value.code == 403


@pytest.mark.parametrize(
    "request_path",
    [
        {"path": ("labdeck", "api", "v1", "me")},
        # connecting notebooks to a cluster asks the service too
        {
            "path": ("labdeck", "spark", "connect"),
            "method": "POST",
            "body": '{"cluster_id": "c-1"}',
        },
    ],
)
async def test_says_the_control_plane_is_restarting_while_the_service_is_down(
    jp_fetch, jp_serverapp, request_path
):
    extension = jp_serverapp.extension_manager.extension_apps["labdeck"].pop()
    extension.service_url = f"http://127.0.0.1:{free_port()}/services/labdeck/"  # nothing there
    request = dict(request_path)
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch(*request.pop("path"), **request)
    response = error.value.response
    assert error.value.code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Retry-After"]) > 0
    assert json.loads(response.body) == {
        "error": "service_restarting",
        "message": "labdeck's control plane is restarting. This page retries on its own; "
        "your lab and files are not affected.",
    }
