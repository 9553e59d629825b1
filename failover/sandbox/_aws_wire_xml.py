"""Query-protocol XML (Auto Scaling, RDS) written and edited from botocore's own shapes.

The sandbox answers some operations in front of moto, or adds to moto's answers, what the real
services report and moto does not. Every element written here is serialized from the service's
botocore output shape (member names, list member element names, timestamp and boolean forms), so a
field the SDK would not parse cannot be served.
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

import botocore.session
from botocore.model import ListShape, ServiceModel, Shape, StructureShape

NAMESPACES = {
    "autoscaling": "http://autoscaling.amazonaws.com/doc/2011-01-01/",
    "rds": "http://rds.amazonaws.com/doc/2014-10-31/",
    "elasticache": "http://elasticache.amazonaws.com/doc/2015-02-02/",
}


@functools.cache
def model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def member_shape(service: str, structure: str, member: str) -> Shape:
    shape = model(service).shape_for(structure)
    assert isinstance(shape, StructureShape), structure
    if member not in shape.members:
        raise KeyError(f"{service} {structure} has no member {member} (botocore {botocore.__version__})")
    return shape.members[member]


def _text(shape: Shape, value: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp":
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def element(service: str, shape: Shape, value: Any, tag: str) -> ET.Element:
    """``value`` (plain dicts/lists, keys as in the API) as an element named ``tag`` (unqualified)."""
    ns = NAMESPACES[service]
    node = ET.Element(f"{{{ns}}}{tag}")
    if isinstance(shape, StructureShape):
        for name, item in value.items():
            if name not in shape.members:
                raise KeyError(f"{service} {shape.name} has no member {name}")
            if item is None:
                continue
            child = shape.members[name]
            node.append(element(service, child, item, child.serialization.get("name", name)))
    elif isinstance(shape, ListShape):
        item_tag = shape.member.serialization.get("name", "member")
        for item in value:
            node.append(element(service, shape.member, item, item_tag))
    else:
        node.text = _text(shape, value)
    return node


def set_member(service: str, parent: ET.Element, structure: str, name: str, value: Any) -> None:
    """Set ``parent``'s member ``name`` (of botocore structure ``structure``), replacing moto's if any."""
    shape = member_shape(service, structure, name)
    tag = shape.serialization.get("name", name)
    ns = NAMESPACES[service]
    for old in parent.findall(f"{{{ns}}}{tag}"):
        parent.remove(old)
    if value is not None:
        parent.append(element(service, shape, value, tag))


def child_text(service: str, parent: ET.Element, *path: str) -> str | None:
    ns = NAMESPACES[service]
    node = parent.find("/".join(f"{{{ns}}}{p}" for p in path))
    return None if node is None or node.text is None else node.text


def children(service: str, parent: ET.Element, *path: str) -> list[ET.Element]:
    ns = NAMESPACES[service]
    return parent.findall("/".join(f"{{{ns}}}{p}" for p in path))


def parse(service: str, body: bytes) -> ET.Element:
    return ET.fromstring(body)


def dump(service: str, root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", default_namespace=NAMESPACES[service])


def response(service: str, operation: str, result: dict[str, Any]) -> bytes:
    """A whole query-protocol answer: ``<OpResponse><OpResult>…</OpResult><ResponseMetadata/>``."""
    ns = NAMESPACES[service]
    op = model(service).operation_model(operation)
    root = ET.Element(f"{{{ns}}}{operation}Response")
    wrapper = op.output_shape.serialization.get("resultWrapper", f"{operation}Result")
    root.append(element(service, op.output_shape, result, wrapper))
    meta = ET.SubElement(root, f"{{{ns}}}ResponseMetadata")
    ET.SubElement(meta, f"{{{ns}}}RequestId").text = str(uuid.uuid4())
    return dump(service, root)


def check_json(service: str, shape_name: str, value: Any) -> Any:
    """``value`` unchanged if every key is a member of botocore's ``shape_name`` (JSON protocols:
    DynamoDB), so a field the SDK would not parse cannot be served; raises ``KeyError`` otherwise."""

    def walk(shape: Shape, item: Any) -> None:
        if isinstance(shape, StructureShape):
            for name, sub in item.items():
                if name not in shape.members:
                    raise KeyError(f"{service} {shape.name} has no member {name}")
                walk(shape.members[name], sub)
        elif isinstance(shape, ListShape):
            for sub in item:
                walk(shape.member, sub)
        elif getattr(shape, "enum", None) and item not in shape.enum:
            raise KeyError(f"{service} {shape.name}: {item!r} is not one of {shape.enum}")

    walk(model(service).shape_for(shape_name), value)
    return value


def error(service: str, code: str, message: str) -> bytes:
    ns = NAMESPACES[service]
    root = ET.Element(f"{{{ns}}}ErrorResponse")
    err = ET.SubElement(root, f"{{{ns}}}Error")
    ET.SubElement(err, f"{{{ns}}}Type").text = "Sender"
    ET.SubElement(err, f"{{{ns}}}Code").text = code
    ET.SubElement(err, f"{{{ns}}}Message").text = message
    ET.SubElement(root, f"{{{ns}}}RequestId").text = str(uuid.uuid4())
    return dump(service, root)
