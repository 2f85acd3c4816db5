"""Real servers for integration tests: RabbitMQ, FerretDB/MongoDB, OpenSearch.

By default they are the ones `make up` started on 127.0.0.1 (or any given by
GUICHET_BROKER_URL, GUICHET_MONGO_URL, GUICHET_OPENSEARCH_URL). With
GUICHET_TESTCONTAINERS=1 on a machine with a Docker engine, they are started as
containers instead (testcontainers). Each test gets its own RabbitMQ virtual host, its
own database names and index prefix, so tests never see each other's messages.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.support import unique


@dataclass(frozen=True)
class Servers:
    amqp_base: str  # without vhost, e.g. amqp://guest:guest@127.0.0.1:5672
    management: str  # RabbitMQ management API base URL
    mongo_url: str
    opensearch_url: str


def _from_env() -> Servers:
    broker = os.environ.get("GUICHET_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
    parsed = urllib.parse.urlsplit(broker)
    return Servers(
        amqp_base=f"{parsed.scheme}://{parsed.netloc}",
        management=os.environ.get("GUICHET_RABBITMQ_MANAGEMENT_URL", "http://127.0.0.1:15672"),
        mongo_url=os.environ.get("GUICHET_MONGO_URL", "mongodb://127.0.0.1:27017/"),
        opensearch_url=os.environ.get("GUICHET_OPENSEARCH_URL", "http://127.0.0.1:9200"),
    )


def _from_testcontainers() -> Iterator[Servers]:  # pragma: no cover - needs a Docker engine
    from testcontainers.core.container import DockerContainer
    from testcontainers.mongodb import MongoDbContainer
    from testcontainers.rabbitmq import RabbitMqContainer

    with (
        RabbitMqContainer("rabbitmq:3.13-management") as rabbit,
        MongoDbContainer("mongo:7") as mongo,
        DockerContainer("opensearchproject/opensearch:2.19.2")
        .with_env("discovery.type", "single-node")
        .with_env("plugins.security.disabled", "true")
        .with_env("DISABLE_INSTALL_DEMO_CONFIG", "true")
        .with_exposed_ports(9200) as search,
    ):
        host = rabbit.get_container_host_ip()
        yield Servers(
            amqp_base=f"amqp://guest:guest@{host}:{rabbit.get_exposed_port(5672)}",
            management=f"http://{host}:{rabbit.get_exposed_port(15672)}",
            mongo_url=mongo.get_connection_url(),
            opensearch_url=f"http://{search.get_container_host_ip()}:{search.get_exposed_port(9200)}",
        )


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    if os.environ.get("GUICHET_TESTCONTAINERS") == "1":
        yield from _from_testcontainers()
    else:
        yield _from_env()


@pytest.fixture
def vhost(servers: Servers) -> Iterator[str]:
    """A fresh RabbitMQ virtual host; its AMQP URL is returned."""
    name = unique("guichet-test-")
    auth = ("guest", "guest")
    quoted = urllib.parse.quote(name, safe="")
    with httpx.Client(base_url=servers.management, auth=auth, timeout=10) as http:
        http.put(f"/api/vhosts/{quoted}").raise_for_status()
        http.put(
            f"/api/permissions/{quoted}/guest",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()
        yield f"{servers.amqp_base}/{quoted}"
        http.delete(f"/api/vhosts/{quoted}")


@pytest.fixture
def delete_vhost(servers: Servers) -> Any:
    """Deletes a vhost made by the ``vhost`` fixture now: the broker vanishes for its clients."""

    def delete(amqp_url: str) -> None:
        name = amqp_url.rsplit("/", 1)[1]
        with httpx.Client(base_url=servers.management, auth=("guest", "guest"), timeout=10) as h:
            h.delete(f"/api/vhosts/{name}").raise_for_status()

    return delete


@pytest.fixture
def namespace() -> str:
    """A prefix for database and index names, unique to the test."""
    return unique("gt")


@pytest.fixture
async def mongo(
    servers: Servers, namespace: str
) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        servers.mongo_url, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    yield client
    for name in await client.list_database_names():
        if name.startswith(namespace):
            await client.drop_database(name)
    await client.close()
