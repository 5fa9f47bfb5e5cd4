import json

from django.test import Client


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def call(client: Client, method: str, path: str, body=None, headers=None):
    kwargs = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    if headers:
        kwargs["headers"] = headers
    return getattr(client, method.lower())(path, **kwargs)
