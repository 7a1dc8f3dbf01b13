"""S3 on the local Glue endpoint: what an S3 request is called in the request log and in fault rules, and
S3's error answers.

moto answers S3 on the same URL as Glue, and a crawler reads Glue job scripts from there. S3 is REST/XML: no
header names the operation, so it is told from the method and the path, which botocore always writes
path-style (``/<bucket>/<key>``) for an endpoint given as an IP address (such as ``http://127.0.0.1:PORT``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

from gazetteer.devtools.glue_http import status_line

# Query parameters that only shape the answer of a plain object or bucket call; any other one is a
# sub-resource (?acl, ?tagging, ?uploads, ...), i.e. another operation.
_PLAIN_QUERY = {
    "versionId", "partNumber", "list-type", "prefix", "delimiter", "marker", "max-keys", "continuation-token",
    "start-after", "fetch-owner", "encoding-type", "response-content-type", "response-content-disposition",
    "response-content-encoding", "response-content-language", "response-cache-control", "response-expires",
}
_OBJECT_OPERATIONS = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}
_BUCKET_OPERATIONS = {"GET": "ListObjects", "HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}


def s3_request(environ: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """("S3:<Operation>", {"Bucket": ..., "Key": ...}) of a path-style S3 request; the body names bucket and
    key as boto3's parameters do. Calls on sub-resources are named by method and sub-resource (``S3:GET?acl``)."""
    method = str(environ.get("REQUEST_METHOD", "GET"))
    bucket, _, key = unquote(str(environ.get("PATH_INFO", ""))).lstrip("/").partition("/")
    query = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    subresources = sorted(set(query) - _PLAIN_QUERY)
    if subresources:
        name = f"{method}?{subresources[0]}"
    elif not bucket:
        name = "ListBuckets" if method == "GET" else method
    elif key:
        name = "CopyObject" if method == "PUT" and "HTTP_X_AMZ_COPY_SOURCE" in environ else _OBJECT_OPERATIONS.get(
            method, method)
    else:
        name = "ListObjectsV2" if method == "GET" and query.get("list-type") == ["2"] else _BUCKET_OPERATIONS.get(
            method, method)
    body = {"Bucket": bucket, "Key": key} if key else {"Bucket": bucket} if bucket else {}
    return f"S3:{name}", body


def s3_error(status: int, code: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of an error the way S3 sends it: an XML ``<Error>`` document."""
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            "<RequestId>local-glue-fault</RequestId></Error>").encode()
    headers = [("Content-Type", "application/xml"), ("x-amz-request-id", "local-glue-fault"),
               ("Content-Length", str(len(body)))]
    return status_line(status), headers, body
