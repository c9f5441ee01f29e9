"""`api/v1/openapi.json`: the API description, generated from the routes themselves."""

from .base import APIHandler

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


class OpenAPIHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "This API description",
            "responses": {"200": {"description": "An OpenAPI 3 document"}},
        }
    }

    def get(self):
        self.write_json(self.settings["labdeck"].openapi_document())


def _operation(spec: dict) -> dict:
    """An OpenAPI operation, with JSON bodies and the shared error responses filled in."""
    operation = {key: value for key, value in spec.items() if key != "responses"}
    responses = {}
    for status, response in spec.get("responses", {}).items():
        schema = response.get("schema")
        responses[status] = {"description": response["description"]}
        if schema:
            responses[status]["content"] = {"application/json": {"schema": schema}}
    error = {"$ref": "#/components/responses/Error"}
    responses.setdefault("401", error)
    responses.setdefault("403", error)
    operation["responses"] = responses
    if "request" in spec:
        operation.pop("request")
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": spec["request"]}},
        }
    return operation


def build_document(routes: list[tuple[str, type]], base_url: str, version: str) -> dict:
    """OpenAPI 3 document for (path template, handler class) routes."""
    paths = {}
    for template, handler in routes:
        paths["/" + template.removeprefix("api/v1/")] = {
            method: _operation(spec) for method, spec in handler.openapi.items()
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "labdeck control plane", "version": version},
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'token <JupyterHub API token>'",
                }
            },
            "responses": {
                "Error": {
                    "description": "An error, with a message for people",
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                }
            },
        },
        "security": [{"token": []}],
        "paths": paths,
    }


default_handlers = [("api/v1/openapi.json", OpenAPIHandler)]
