"""service.rules.validation against responses recorded from a real AgentOS 3.1.10 (FastAPI 0.165, pydantic 2.14.3).

Every literal 422 body below is the exact text AgentOS answered for the same query string, body and
content-type (recorded with fastapi.testclient against agno's own app on PostgreSQL). The `OURS` cases are
where AgentOS answers 500 and we deliberately answer a precise 422 (docs/compatibility.md).
"""

import json

import pytest

from service.rules.validation import parsers
from service.rules.validation.errors import BodyUnreadable, RequestInvalid
from service.rules.validation.query import query_args
from service.rules.validation.scalars import parse_bool, parse_int
from service.rules.validation.storable import BIGINT_MAX


def _query_of(parser, name):
    """A route parser seen as its query dict, the deferred 422 raised at once (as after db resolution)."""
    def parse(args):
        return parser(args).checked().query
    parse.__name__ = name
    return parse


def _request_of(parser, name):
    """A route parser with a body seen as (query, body), the deferred 422 raised at once."""
    def parse(args, raw, content_type):
        parsed = parser(args, raw, content_type).checked()
        return parsed.query, parsed.body
    parse.__name__ = name
    return parse


list_query = _query_of(parsers.list_query, "list_query")
detail_query = single_run_query = _query_of(parsers.detail_query, "detail_query")
runs_query = _query_of(parsers.runs_query, "runs_query")
delete_query = _query_of(parsers.delete_query, "delete_query")
create_request = _request_of(parsers.create_request, "create_request")
rename_request = _request_of(parsers.rename_request, "rename_request")
patch_request = _request_of(parsers.patch_request, "patch_request")
bulk_delete_request = _request_of(parsers.bulk_delete_request, "bulk_delete_request")


def create_query(args):
    return create_request(args, None, None)[0]


def create_body(raw, content_type):
    return create_request(query_args(b""), raw, content_type)[1]


def rename_body(raw, content_type):
    return rename_request(query_args(b""), raw, content_type)[1]


def patch_body(raw, content_type):
    return patch_request(query_args(b""), raw, content_type)[1]


def bulk_delete_body(raw, content_type):
    return bulk_delete_request(query_args(b""), raw, content_type)[1]

JSON = "application/json"
INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"


def args(qs: str):
    return query_args(qs.encode("latin-1"))


def rendered(exc: RequestInvalid) -> str:
    """What Starlette's JSONResponse writes for the 422."""
    return json.dumps({"detail": exc.errors}, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def call(fn, qs, raw=None, content_type=None):
    if fn.__name__.endswith("_request"):
        return fn(args(qs), raw, content_type)
    return fn(args(qs))


QUERY_422 = [
    (list_query, 'limit=5.',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"5."}]}')),
    (list_query, 'limit=.5',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":".5"}]}')),
    (list_query, 'limit=5.5',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"5.5"}]}')),
    (list_query, 'limit=-0',
     ('{"detail":[{"type":"greater_than_equal","loc":["query","limit"],'
      '"msg":"Input should be greater than or equal to 1","input":"-0","ctx":{"ge":1}}]}')),
    (list_query, 'limit=0x10',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"0x10"}]}')),
    (list_query, 'limit=1e3',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"1e3"}]}')),
    (list_query, 'limit=5e0',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"5e0"}]}')),
    (list_query, 'limit=%D9%A5',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"٥"}]}')),
    (list_query, 'limit=%EF%BC%95',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"５"}]}')),
    (list_query, 'limit=',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":""}]}')),
    (list_query, 'limit=inf',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"inf"}]}')),
    (list_query, 'limit=nan',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"nan"}]}')),
    (list_query, 'limit=1__0',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"1__0"}]}')),
    (list_query, 'limit=_1',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"_1"}]}')),
    (list_query, 'limit=1_',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"1_"}]}')),
    (list_query, 'limit=0b1',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"0b1"}]}')),
    (list_query, 'limit=0o7',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"0o7"}]}')),
    (list_query, 'limit=-9223372036854775809',
     ('{"detail":[{"type":"greater_than_equal","loc":["query","limit"],'
      '"msg":"Input should be greater than or equal to 1","input":"-9223372036854775809",'
      '"ctx":{"ge":1}}]}')),
    (list_query, 'limit=0.0',
     ('{"detail":[{"type":"greater_than_equal","loc":["query","limit"],'
      '"msg":"Input should be greater than or equal to 1","input":"0.0","ctx":{"ge":1}}]}')),
    (list_query, 'limit=-0.0',
     ('{"detail":[{"type":"greater_than_equal","loc":["query","limit"],'
      '"msg":"Input should be greater than or equal to 1","input":"-0.0","ctx":{"ge":1}}]}')),
    (list_query, 'limit=1.0000000000000000001',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"1.0000000000000000001"}]}')),
    (list_query, 'limit=%2B0',
     ('{"detail":[{"type":"greater_than_equal","loc":["query","limit"],'
      '"msg":"Input should be greater than or equal to 1","input":"+0","ctx":{"ge":1}}]}')),
    (list_query, 'limit=-%205',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"- 5"}]}')),
    (list_query, 'limit=5%205',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"5 5"}]}')),
    (list_query, 'limit=5%00',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"5\\u0000"}]}')),
    (list_query, 'limit=1%2C5',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"1,5"}]}')),
    (list_query, 'page=-1',
     ('{"detail":[{"type":"greater_than_equal","loc":["query","page"],'
      '"msg":"Input should be greater than or equal to 0","input":"-1","ctx":{"ge":0}}]}')),
    (list_query, 'limit=5&limit=abc',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"abc"}]}')),
    (list_query, 'page=0&type=robot',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"robot","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (list_query, 'limit=99999999999999999999&sort_order=ASC',
     ('{"detail":[{"type":"enum","loc":["query","sort_order"],'
      '"msg":"Input should be \'asc\' or \'desc\'","input":"ASC",'
      '"ctx":{"expected":"\'asc\' or \'desc\'"}}]}')),
    (list_query, 'type',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (list_query, 'type=&sort_order=',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}},{"type":"enum","loc":["query","sort_order"],'
      '"msg":"Input should be \'asc\' or \'desc\'","input":"",'
      '"ctx":{"expected":"\'asc\' or \'desc\'"}}]}')),
    (list_query, 'type=Agent',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"Agent","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (list_query, 'type=agent%20',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"agent ","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (list_query, 'type=%20agent',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":" agent","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (list_query, 'type=AGENT',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"AGENT","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (list_query, 'type=asc',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"asc","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (list_query, 'sort_order=Desc',
     ('{"detail":[{"type":"enum","loc":["query","sort_order"],'
      '"msg":"Input should be \'asc\' or \'desc\'","input":"Desc",'
      '"ctx":{"expected":"\'asc\' or \'desc\'"}}]}')),
    (delete_query, 'delete_media=%20true',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input",'
      '"input":" true"}]}')),
    (delete_query, 'delete_media=true%20',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input",'
      '"input":"true "}]}')),
    (delete_query, 'delete_media=',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":""}]}')),
    (delete_query, 'delete_media=2',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":"2"}]}')),
    (delete_query, 'delete_media=maybe',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input",'
      '"input":"maybe"}]}')),
    (delete_query, 'delete_media=0.0',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":"0.0"}]}')),
    (delete_query, 'delete_media=1.0',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":"1.0"}]}')),
    (delete_query, 'delete_media=truee',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input",'
      '"input":"truee"}]}')),
    (delete_query, 'delete_media=-1',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":"-1"}]}')),
    (delete_query, 'delete_media=00',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":"00"}]}')),
    (delete_query, 'delete_media=01',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":"01"}]}')),
    (delete_query, 'delete_media=%D9%A1',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":"١"}]}')),
    (runs_query, 'created_after=abc&created_before=abc',
     ('{"detail":[{"type":"int_parsing","loc":["query","created_after"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"abc"},{"type":"int_parsing","loc":["query","created_before"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"abc"}]}')),
    (runs_query, 'created_after=&created_before=',
     ('{"detail":[{"type":"int_parsing","loc":["query","created_after"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":""},{"type":"int_parsing","loc":["query","created_before"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":""}]}')),
    (runs_query, 'status=bogus&status=done&type=x',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"x","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (runs_query, 'status=&created_after=x',
     ('{"detail":[{"type":"int_parsing","loc":["query","created_after"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"x"}]}')),
    (single_run_query, 'type=x&user_id=u',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"x","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (detail_query, 'type=x',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"x","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (runs_query, 'type=x&created_after=1.5&created_before=z',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"x","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}},{"type":"int_parsing","loc":["query","created_after"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"1.5"},{"type":"int_parsing","loc":["query","created_before"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"z"}]}')),
    (delete_query, 'delete_media=x',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":"x"}]}')),
    (list_query, 'type=%FF',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"�","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (list_query, 'limit=%FF',
     ('{"detail":[{"type":"int_parsing","loc":["query","limit"],'
      '"msg":"Input should be a valid integer, unable to parse string as an integer",'
      '"input":"�"}]}')),
]

BODY_ERRORS = [
    (create_request, '', b'{"session_id": "x",', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",19],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (create_request, '', b'{', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",1],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (create_request, '', b'{"a":1}x', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",7],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Extra data"}}]}')),
    (create_request, '', b'"abc', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Unterminated string starting at"}}]}')),
    (create_request, '', b'   ', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",3],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting value"}}]}')),
    (create_request, '', b'\n\n  {', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",5],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (create_request, '', b'[]', 'application/json',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[]}]}')),
    (create_request, '', b'{}', None,
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"{}"}]}')),
    (create_request, '', b'{"session_name": "n"}', 'text/plain',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"{\\"session_name\\": \\"n\\"}"}]}')),
    (create_request, '', b'not json at all', None,
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"not json at all"}]}')),
    (create_request, '', b'[1]', 'application/json; charset=utf-8',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[1]}]}')),
    (create_request, '', b'[2]', 'application/vnd.api+json',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[2]}]}')),
    (create_request, '', b'[3]', 'APPLICATION/JSON',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[3]}]}')),
    (create_request, '', b'[4]', 'application/json-patch+json',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[4]}]}')),
    (create_request, '', b'[5]', 'application/jsonx',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"[5]"}]}')),
    (create_request, '', b'[6]', 'text/json',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"[6]"}]}')),
    (create_request, '', b'[7]', 'application/x-json',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"[7]"}]}')),
    (create_request, '', b'[8]', 'application/json;',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[8]}]}')),
    (create_request, '', b'[9]', 'application/ json',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"[9]"}]}')),
    (create_request, '', b'[10]', 'json',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"[10]"}]}')),
    (create_request, '', b'[11]', ';',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"[11]"}]}')),
    (create_request, '', b'[12]', 'application/+json',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[12]}]}')),
    (create_request, '', b'[13]', 'application/json, text/plain',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"[13]"}]}')),
    (create_request, '', b'["\xe9"]', 'application/json; charset=latin-1',
     400),
    (create_request, '', b'[14]', 'application/json; charset=utf-16',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[14]}]}')),
    (create_request, '', b'[15]', ' application/json ',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[15]}]}')),
    (create_request, '', b'[16]', 'application/JSON+xml',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"[16]"}]}')),
    (create_request, '', b'[17]', 'application/problem+JSON',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[17]}]}')),
    (create_request, '', b'[18]', 'application/json\t',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[18]}]}')),
    (create_request, '', b'[19]', 'multipart/form-data',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"[19]"}]}')),
    (create_request, '', b'session_name=x', 'application/x-www-form-urlencoded',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"session_name=x"}]}')),
    (create_request, '', b'{"session_name": "\xff\xfe"}', 'application/json',
     400),
    (create_request, '', b'   ', 'text/plain',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":"   "}]}')),
    (patch_request, '', None, None,
     '{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}'),
    (patch_request, '', b'{"session_id": "x",', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",19],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (patch_request, '', b'{', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",1],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (patch_request, '', b'{"a":1}x', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",7],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Extra data"}}]}')),
    (patch_request, '', b'"abc', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Unterminated string starting at"}}]}')),
    (patch_request, '', b'   ', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",3],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting value"}}]}')),
    (patch_request, '', b'\n\n  {', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",5],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (patch_request, '', b'[]', 'application/json',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[]}]}')),
    (patch_request, '', b'["\xe9"]', 'application/json; charset=latin-1',
     400),
    (rename_request, '', None, None,
     ('{"detail":[{"type":"missing","loc":["body","session_name"],"msg":"Field required",'
      '"input":null}]}')),
    (rename_request, '', b'{"session_id": "x",', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",19],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (rename_request, '', b'{', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",1],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (rename_request, '', b'{"a":1}x', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",7],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Extra data"}}]}')),
    (rename_request, '', b'"abc', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Unterminated string starting at"}}]}')),
    (rename_request, '', b'   ', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",3],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting value"}}]}')),
    (rename_request, '', b'\n\n  {', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",5],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (rename_request, '', b'["\xe9"]', 'application/json; charset=latin-1',
     400),
    (bulk_delete_request, '', None, None,
     '{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}'),
    (bulk_delete_request, '', b'{}', 'application/json',
     ('{"detail":[{"type":"missing","loc":["body","session_ids"],"msg":"Field required",'
      '"input":{}},{"type":"missing","loc":["body","session_types"],"msg":"Field required",'
      '"input":{}}]}')),
    (bulk_delete_request, '', b'{"session_id": "x",', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",19],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (bulk_delete_request, '', b'{', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",1],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (bulk_delete_request, '', b'{"a":1}x', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",7],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Extra data"}}]}')),
    (bulk_delete_request, '', b'"abc', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Unterminated string starting at"}}]}')),
    (bulk_delete_request, '', b'   ', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",3],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting value"}}]}')),
    (bulk_delete_request, '', b'\n\n  {', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",5],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (bulk_delete_request, '', b'[]', 'application/json',
     ('{"detail":[{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[]}]}')),
    (bulk_delete_request, '', b'["\xe9"]', 'application/json; charset=latin-1',
     400),
    (create_request, '', (b'{"session_id": 1, "session_name": 2, "se'
      b'ssion_state": 3, "metadata": 4, "user_id'
      b'": 5, "agent_id": 6, "team_id": 7, "work'
      b'flow_id": 8}'), 'application/json',
     ('{"detail":[{"type":"string_type","loc":["body","session_id"],'
      '"msg":"Input should be a valid string","input":1},{"type":"string_type",'
      '"loc":["body","session_name"],"msg":"Input should be a valid string","input":2},'
      '{"type":"dict_type","loc":["body","session_state"],'
      '"msg":"Input should be a valid dictionary","input":3},{"type":"dict_type",'
      '"loc":["body","metadata"],"msg":"Input should be a valid dictionary","input":4},'
      '{"type":"string_type","loc":["body","user_id"],'
      '"msg":"Input should be a valid string","input":5},{"type":"string_type",'
      '"loc":["body","agent_id"],"msg":"Input should be a valid string","input":6},'
      '{"type":"string_type","loc":["body","team_id"],'
      '"msg":"Input should be a valid string","input":7},{"type":"string_type",'
      '"loc":["body","workflow_id"],"msg":"Input should be a valid string","input":8}]}')),
    (create_request, '', (b'{"workflow_id": [], "session_state": [],'
      b' "metadata": "x", "session_id": true, "e'
      b'xtra": 1}'), 'application/json',
     ('{"detail":[{"type":"string_type","loc":["body","session_id"],'
      '"msg":"Input should be a valid string","input":true},{"type":"dict_type",'
      '"loc":["body","session_state"],"msg":"Input should be a valid dictionary",'
      '"input":[]},{"type":"dict_type","loc":["body","metadata"],'
      '"msg":"Input should be a valid dictionary","input":"x"},{"type":"string_type",'
      '"loc":["body","workflow_id"],"msg":"Input should be a valid string","input":[]}]}')),
    (create_request, '', (b'{"session_id": 1.5, "session_state": tru'
      b'e, "metadata": [1], "user_id": {"a":1}}'), 'application/json',
     ('{"detail":[{"type":"string_type","loc":["body","session_id"],'
      '"msg":"Input should be a valid string","input":1.5},{"type":"dict_type",'
      '"loc":["body","session_state"],"msg":"Input should be a valid dictionary",'
      '"input":true},{"type":"dict_type","loc":["body","metadata"],'
      '"msg":"Input should be a valid dictionary","input":[1]},{"type":"string_type",'
      '"loc":["body","user_id"],"msg":"Input should be a valid string","input":{"a":1}}]}')),
    (patch_request, '', (b'{"session_name": 1, "session_state": "x"'
      b', "metadata": [], "summary": 5}'), 'application/json',
     ('{"detail":[{"type":"string_type","loc":["body","session_name"],'
      '"msg":"Input should be a valid string","input":1},{"type":"dict_type","loc":["body",'
      '"session_state"],"msg":"Input should be a valid dictionary","input":"x"},'
      '{"type":"dict_type","loc":["body","metadata"],'
      '"msg":"Input should be a valid dictionary","input":[]},{"type":"dict_type",'
      '"loc":["body","summary"],"msg":"Input should be a valid dictionary","input":5}]}')),
    (patch_request, '', b'{"summary": "s", "session_name": false}', 'application/json',
     ('{"detail":[{"type":"string_type","loc":["body","session_name"],'
      '"msg":"Input should be a valid string","input":false},{"type":"dict_type",'
      '"loc":["body","summary"],"msg":"Input should be a valid dictionary","input":"s"}]}')),
    (rename_request, '', b'{"session_name": 1}', 'application/json',
     ('{"detail":[{"type":"string_type","loc":["body","session_name"],'
      '"msg":"Input should be a valid string","input":1}]}')),
    (bulk_delete_request, '', b'{"session_ids": [], "session_types": []}', 'application/json',
     ('{"detail":[{"type":"too_short","loc":["body","session_ids"],'
      '"msg":"List should have at least 1 item after validation, not 0","input":[],'
      '"ctx":{"field_type":"List","min_length":1,"actual_length":0}},{"type":"too_short",'
      '"loc":["body","session_types"],'
      '"msg":"List should have at least 1 item after validation, not 0","input":[],'
      '"ctx":{"field_type":"List","min_length":1,"actual_length":0}}]}')),
    (bulk_delete_request, '', b'{"session_ids": "x", "session_types": "agent"}', 'application/json',
     ('{"detail":[{"type":"list_type","loc":["body","session_ids"],'
      '"msg":"Input should be a valid list","input":"x"},{"type":"list_type","loc":["body",'
      '"session_types"],"msg":"Input should be a valid list","input":"agent"}]}')),
    (bulk_delete_request, '', (b'{"session_ids": [1, "a", null], "session'
      b'_types": ["robot", "agent", "AGENT", 1, '
      b'null]}'), 'application/json',
     ('{"detail":[{"type":"string_type","loc":["body","session_ids",0],'
      '"msg":"Input should be a valid string","input":1},{"type":"string_type",'
      '"loc":["body","session_ids",2],"msg":"Input should be a valid string","input":null},'
      '{"type":"enum","loc":["body","session_types",0],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"robot","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}},{"type":"enum","loc":["body","session_types",2],'
      '"msg":"Input should be \'agent\', \'team\' or \'workflow\'","input":"AGENT",'
      '"ctx":{"expected":"\'agent\', \'team\' or \'workflow\'"}},{"type":"enum","loc":["body",'
      '"session_types",3],"msg":"Input should be \'agent\', \'team\' or \'workflow\'","input":1,'
      '"ctx":{"expected":"\'agent\', \'team\' or \'workflow\'"}},{"type":"enum","loc":["body",'
      '"session_types",4],"msg":"Input should be \'agent\', \'team\' or \'workflow\'",'
      '"input":null,"ctx":{"expected":"\'agent\', \'team\' or \'workflow\'"}}]}')),
    (bulk_delete_request, '', b'{"session_ids": ["a"]}', 'application/json',
     ('{"detail":[{"type":"missing","loc":["body","session_types"],"msg":"Field required",'
      '"input":{"session_ids":["a"]}}]}')),
    (bulk_delete_request, '', b'{"session_types": ["agent"]}', 'application/json',
     ('{"detail":[{"type":"missing","loc":["body","session_ids"],"msg":"Field required",'
      '"input":{"session_types":["agent"]}}]}')),
    (bulk_delete_request, '', b'{"session_ids": [[]], "session_types": [[]]}', 'application/json',
     ('{"detail":[{"type":"string_type","loc":["body","session_ids",0],'
      '"msg":"Input should be a valid string","input":[]},{"type":"enum","loc":["body",'
      '"session_types",0],"msg":"Input should be \'agent\', \'team\' or \'workflow\'","input":[],'
      '"ctx":{"expected":"\'agent\', \'team\' or \'workflow\'"}}]}')),
    (bulk_delete_request, '', b'{"session_ids": [], "session_types": ["robot"]}', 'application/json',
     ('{"detail":[{"type":"too_short","loc":["body","session_ids"],'
      '"msg":"List should have at least 1 item after validation, not 0","input":[],'
      '"ctx":{"field_type":"List","min_length":1,"actual_length":0}},{"type":"enum",'
      '"loc":["body","session_types",0],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"robot","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (bulk_delete_request, '', b'{"session_ids": [1.5, true], "session_types": [""]}', 'application/json',
     ('{"detail":[{"type":"string_type","loc":["body","session_ids",0],'
      '"msg":"Input should be a valid string","input":1.5},{"type":"string_type",'
      '"loc":["body","session_ids",1],"msg":"Input should be a valid string","input":true},'
      '{"type":"enum","loc":["body","session_types",0],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}}]}')),
    (patch_request, 'type=bad', b'[]', 'application/json',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"bad","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}},{"type":"model_attributes_type","loc":["body"],'
      '"msg":"Input should be a valid dictionary or object to extract fields from",'
      '"input":[]}]}')),
    (patch_request, 'type=bad', None, None,
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"bad","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}},{"type":"missing","loc":["body"],"msg":"Field required",'
      '"input":null}]}')),
    (patch_request, 'type=bad', b'{', 'application/json',
     ('{"detail":[{"type":"json_invalid","loc":["body",1],"msg":"JSON decode error",'
      '"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')),
    (patch_request, 'type=bad', b'["\xc3"]', 'application/json',
     400),
    (create_request, 'type=bad', b'{"session_id": 1}', 'application/json',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"bad","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}},{"type":"string_type","loc":["body","session_id"],'
      '"msg":"Input should be a valid string","input":1}]}')),
    (rename_request, 'type=bad', b'{"session_name": 1}', 'application/json',
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"bad","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}},{"type":"string_type","loc":["body","session_name"],'
      '"msg":"Input should be a valid string","input":1}]}')),
    (rename_request, 'type=bad', None, None,
     ('{"detail":[{"type":"enum","loc":["query","type"],"msg":"Input should be \'agent\','
      ' \'team\' or \'workflow\'","input":"bad","ctx":{"expected":"\'agent\','
      ' \'team\' or \'workflow\'"}},{"type":"missing","loc":["body","session_name"],'
      '"msg":"Field required","input":null}]}')),
    (bulk_delete_request, 'delete_media=x', b'{"session_ids": []}', 'application/json',
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":"x"},'
      '{"type":"too_short","loc":["body","session_ids"],'
      '"msg":"List should have at least 1 item after validation, not 0","input":[],'
      '"ctx":{"field_type":"List","min_length":1,"actual_length":0}},{"type":"missing",'
      '"loc":["body","session_types"],"msg":"Field required","input":{"session_ids":[]}}]}')),
    (bulk_delete_request, 'delete_media=x', None, None,
     ('{"detail":[{"type":"bool_parsing","loc":["query","delete_media"],'
      '"msg":"Input should be a valid boolean, unable to interpret input","input":"x"},'
      '{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}')),
    (create_request, 'type=team', b'{"session_id": "probe-created-1", "agent_id": 5}', 'application/json',
     ('{"detail":[{"type":"string_type","loc":["body","agent_id"],'
      '"msg":"Input should be a valid string","input":5}]}')),
]


@pytest.mark.parametrize("fn,qs,expected", QUERY_422)
def test_query_errors_match_agentos(fn, qs, expected):
    with pytest.raises(RequestInvalid) as exc:
        call(fn, qs)
    assert rendered(exc.value) == expected


@pytest.mark.parametrize("fn,qs,raw,content_type,expected", BODY_ERRORS)
def test_body_errors_match_agentos(fn, qs, raw, content_type, expected):
    if expected == 400:
        with pytest.raises(BodyUnreadable):
            call(fn, qs, raw, content_type)
        return
    with pytest.raises(RequestInvalid) as exc:
        call(fn, qs, raw, content_type)
    assert rendered(exc.value) == expected


SIZE_MSG = "Unable to parse input string as an integer, exceeded maximum size"


def test_int_parsing_size_matches_agentos():
    for raw in ("1" * 4301, "-" + "1" * 4301, "1" * 4301 + ".0", "1" * 4301 + "x"):
        with pytest.raises(RequestInvalid) as exc:
            list_query(args("limit=" + raw))
        assert exc.value.errors == [{"type": "int_parsing_size", "loc": ["query", "limit"], "msg": SIZE_MSG,
                                     "input": raw}]
    # recorded: a leading space or a run of 4301 digits reached only after cleaning is plain int_parsing
    for raw in (" " + "5" * 4301, "0" * 4300 + "1" * 4301, "1" * 2000 + "_" + "1" * 2301):
        with pytest.raises(RequestInvalid) as exc:
            list_query(args("limit=" + raw))
        assert exc.value.errors[0]["type"] == "int_parsing"


def test_deeply_nested_json_is_agentos_400():
    with pytest.raises(BodyUnreadable):
        patch_request(args(""), b"[" * 100000, JSON)


# ---------------------------------------------------------------------------------------- accepted values


@pytest.mark.parametrize("raw,value", [
    # recorded 200s: pydantic-core trims Unicode White_Space, takes one sign, `.0+`, single underscores
    ("1_000", 1000), (" 5 ", 5), ("+5", 5), ("5.0", 5), ("5.00", 5), ("00005", 5), ("5\n", 5), ("\t5", 5),
    ("\u00a05", 5), ("5\u00a0", 5), ("\u20035", 5), ("9223372036854775807", BIGINT_MAX),
    ("1" * 4300, int("1" * 4300)), ("0" * 5000 + "1", 1), ("1_0.0", 10), ("-0.0", 0), ("+01", 1),
])
def test_int_strings_pydantic_accepts(raw, value):
    assert parse_int(raw) == value


@pytest.mark.parametrize("raw", ["5.", ".5", "1__0", "_1", "1_", "0x10", "1e3", "\u0665", "\uff15", "1\x1c",
                                 "1\u200b", "--1", "+-1", "1.0_0", "", " ", "inf", "nan"])
def test_int_strings_pydantic_rejects(raw):
    assert parse_int(raw) == "int_parsing"


@pytest.mark.parametrize("raw,value", [
    *[(w, True) for w in ("true", "True", "TRUE", "tRuE", "1", "yes", "Yes", "on", "y", "Y", "t", "T")],
    *[(w, False) for w in ("false", "False", "FALSE", "0", "no", "off", "n", "N", "f", "F")],
    *[(w, None) for w in (" true", "true ", "", "2", "maybe", "0.0", "1.0", "truee", "-1", "00", "\u0661")],
])
def test_bool_strings(raw, value):
    assert parse_bool(raw) is value


def test_list_defaults_and_types():
    assert list_query(args("")) == {
        "session_type": None, "component_id": None, "user_id": None, "session_name": None, "limit": 20,
        "page": 1, "sort_by": "created_at", "sort_order": "desc", "db_id": None, "table": None,
        "created_after": None, "created_before": None, "updated_after": None, "updated_before": None, "metadata": None,
        "cursor": None, "include_total": None, "fields": None, "include": None, "q": None}  # extensions: absent is None
    got = list_query(args("type=team&limit=%2B5&page=5.0&sort_order=asc&user_id=&session_name=a%25b&table=t"))
    assert (got["session_type"], got["limit"], got["page"], got["sort_order"]) == ("team", 5, 5, "asc")
    assert (got["user_id"], got["session_name"], got["table"]) == ("", "a%b", "t")


def test_last_repeated_value_wins():
    assert list_query(args("limit=abc&limit=5"))["limit"] == 5
    assert detail_query(args("user_id=a&user_id=b"))["user_id"] == "b"


def test_query_decoding_is_starlettes():
    # recorded: AgentOS echoes an undecodable %FF as U+FFFD (werkzeug's request.args would keep "%FF")
    with pytest.raises(RequestInvalid) as exc:
        list_query(args("type=%FF"))
    assert exc.value.errors[0]["input"] == "\ufffd"
    assert detail_query(args("user_id=x+y"))["user_id"] == "x y"
    assert detail_query(args("user_id"))["user_id"] == ""


def test_runs_query_status_list_and_timestamps():
    got = runs_query(args("status=bogus&status=done&created_after=1_000&created_before=%2B5"))
    assert got["status"] == ["bogus", "done"] and (got["created_after"], got["created_before"]) == (1000, 5)
    assert runs_query(args(""))["status"] is None
    assert runs_query(args("status="))["status"] == [""]
    assert runs_query(args("created_after=99999999999999999999999"))["created_after"] == 10**23 - 1


def test_other_query_defaults():
    assert create_query(args("")) == {"session_type": "agent", "db_id": None}
    assert delete_query(args("delete_media=On")) == {"user_id": None, "db_id": None, "table": None,
                                                      "delete_media": True}
    assert single_run_query(args("type=workflow"))["session_type"] == "workflow"


def test_create_body_absent_or_empty_is_all_defaults():
    empty = {k: None for k in ("session_id", "session_name", "session_state", "metadata", "user_id",
                               "agent_id", "team_id", "workflow_id", "runs", "summary")}
    assert create_body(None, None) == empty
    assert create_body(b"", JSON) == empty  # recorded 201
    assert create_body(b"{}", JSON) == empty


@pytest.mark.parametrize("content_type", [
    JSON, "application/json; charset=utf-8", "application/vnd.api+json", "APPLICATION/JSON",
    "application/json-patch+json", "application/problem+JSON", "application/json;", " application/json ",
    "application/+json", "application/json; charset=utf-16", "application/json\t",
])
def test_json_media_types_are_parsed(content_type):
    assert patch_body(b'{"session_name": "n"}', content_type)["session_name"] == "n"


@pytest.mark.parametrize("raw", [b'\xef\xbb\xbf{"session_name": "n"}',
                                 *[b'{"session_name": "n"}'.decode().encode(c) for c in ("utf-16", "utf-32")],
                                 '{"session_name": "n"}'.encode("utf-16-le")])
def test_json_bytes_encoding_is_detected_like_json_loads(raw):
    assert rename_body(raw, JSON) == {"session_name": "n"}


def test_body_values():
    assert patch_body(b'{"session_state": {}, "metadata": {"a": null}, "junk": 1}', JSON) == {
        "session_name": None, "session_state": {}, "metadata": {"a": None}, "summary": None}
    assert rename_body(b'{"session_name": ""}', JSON) == {"session_name": ""}
    assert bulk_delete_body(b'{"session_ids": ["a", "a"], "session_types": ["team"]}', JSON) == {
        "session_ids": ["a", "a"], "session_types": ["team"]}
    # duplicate keys: the last one wins, as json.loads does
    assert rename_body(b'{"session_name": "a", "session_name": "b"}', JSON) == {"session_name": "b"}
    # NaN in a field nobody reads is ignored (recorded 2xx on rename and bulk delete)
    assert rename_body(b'{"session_name": "x", "junk": NaN}', JSON) == {"session_name": "x"}


def test_nul_is_stripped_from_json_column_strings():
    # recorded: agno stores "a\u0000b" as "ab" (name, state and metadata values), and answers 201/200
    got = create_body(b'{"session_name": "a\\u0000b", "session_state": {"a": "b\\u0000c", "l": ["x\\u0000"]},'
                      b' "metadata": {"m": "\\u0000"}}', JSON)
    assert (got["session_name"], got["session_state"], got["metadata"]) == ("ab", {"a": "bc", "l": ["x"]},
                                                                            {"m": ""})
    assert rename_body(b'{"session_name": "r\\u0000s"}', JSON) == {"session_name": "rs"}
    assert patch_body(b'{"summary": {"summary": "s\\u0000"}}', JSON)["summary"] == {"summary": "s"}
    # only the component id of the requested type is written, so NUL elsewhere is harmless (recorded 201)
    assert create_request(args("type=team"), b'{"agent_id": "t\\u0000"}', JSON)[0]["session_type"] == "team"


def test_create_extension_fields():
    raw = b'{"runs": [{"run_id": "r1", "x": 1}], "summary": {"summary": "s", "topics": ["t"]}}'
    got = create_body(raw, JSON)
    assert got["runs"] == [{"run_id": "r1", "x": 1}] and got["summary"] == {"summary": "s", "topics": ["t"]}


def test_extension_errors_never_hide_agentos_errors():
    # AgentOS ignores `runs`; with a real error present the client must see exactly AgentOS's 422
    with pytest.raises(RequestInvalid) as exc:
        create_body(b'{"session_id": 1, "runs": "x"}', JSON)
    assert [e["loc"] for e in exc.value.errors] == [["body", "session_id"]]
    with pytest.raises(RequestInvalid) as exc:
        list_query(args("page=0&limit=99999999999999999999&sort_order=ASC"))  # recorded: only sort_order
    assert [e["loc"] for e in exc.value.errors] == [["query", "sort_order"]]


def test_request_functions_return_both_parts():
    assert rename_request(args("type=team&user_id=u"), b'{"session_name": "n"}', JSON) == (
        {"session_type": "team", "user_id": "u", "db_id": None, "table": None}, {"session_name": "n"})
    raw = b'{"session_ids": ["a"], "session_types": ["agent"]}'
    query, body = bulk_delete_request(args("delete_media=0"), raw, JSON)
    assert query["delete_media"] is False and body["session_ids"] == ["a"]


# ------------------------------------------------------------------ ours: AgentOS answers 500, we answer 422


def ours(type_, loc, msg, input_, ctx=None):
    out = {"type": type_, "loc": loc, "msg": msg, "input": input_}
    return out if ctx is None else {**out, "ctx": ctx}


NUL_CTX = {"pattern": "^[^\\x00]*$"}
NUL_MSG = "String should match pattern '^[^\\x00]*$'"
UNICODE_MSG = "Input should be a valid string, unable to parse raw data as a unicode string"
OBJECT_MSG = "Input should be a valid dictionary or object to extract fields from"
LE = "Input should be less than or equal to "
GE1 = ours("greater_than_equal", ["query", "page"], "Input should be greater than or equal to 1", "0",
           {"ge": 1})

OURS = [
    # AgentOS 500 (ValueError): page=0 passes its ge=0 check and then fails computing the offset
    (list_query, "page=0", None, None,
     [GE1]),
    # AgentOS 500 (DataError): LIMIT / OFFSET (page-1)*limit beyond PostgreSQL bigint
    (list_query, "limit=9223372036854775808", None, None,
     [ours("less_than_equal", ["query", "limit"], LE + str(BIGINT_MAX), "9223372036854775808",
           {"le": BIGINT_MAX})]),
    (list_query, "page=9223372036854775808", None, None,  # a page past bigint (one whose offset passes it: [])
     [ours("less_than_equal", ["query", "page"], LE + str(BIGINT_MAX), "9223372036854775808",
           {"le": BIGINT_MAX})]),
    (list_query, "limit=99999999999999999999&page=0", None, None,
     [ours("less_than_equal", ["query", "limit"], LE + str(BIGINT_MAX), "99999999999999999999",
           {"le": BIGINT_MAX}), GE1]),
    # AgentOS 500 (DataError): NUL in a string bound to a varchar comparison
    (list_query, "component_id=a%00&session_name=b%00", None, None,
     [ours("string_pattern_mismatch", ["query", "component_id"], NUL_MSG, "a\x00", NUL_CTX),
      ours("string_pattern_mismatch", ["query", "session_name"], NUL_MSG, "b\x00", NUL_CTX)]),
    (detail_query, "user_id=a%00b", None, None,
     [ours("string_pattern_mismatch", ["query", "user_id"], NUL_MSG, "a\x00b", NUL_CTX)]),
    (bulk_delete_request, "", b'{"session_ids": ["z\\u0000"], "session_types": ["agent"]}', JSON,
     [ours("string_pattern_mismatch", ["body", "session_ids", 0], NUL_MSG, "z\x00", NUL_CTX)]),
    (create_request, "type=team", b'{"team_id": "t\\u0000"}', JSON,
     [ours("string_pattern_mismatch", ["body", "team_id"], NUL_MSG, "t\x00", NUL_CTX)]),
    (create_request, "", b'{"session_state": {"a\\u0000": 1}}', JSON,  # agno strips NUL from values, not keys
     [ours("string_pattern_mismatch", ["body", "session_state", "a\x00", "[key]"], NUL_MSG, "a\x00",
           NUL_CTX)]),
    # AgentOS 500 (UnicodeEncodeError / InvalidTextRepresentation): lone surrogates
    (rename_request, "", b'{"session_name": "x\\ud800"}', JSON,
     [ours("string_unicode", ["body", "session_name"], UNICODE_MSG, "x\ufffd")]),
    (create_request, "", b'{"session_id": ["\\ud800"]}', JSON,  # AgentOS cannot render its own 422
     [ours("string_type", ["body", "session_id"], "Input should be a valid string", ["\ufffd"])]),
    # AgentOS 500 (ValueError / InvalidTextRepresentation): NaN, Infinity, 1e400
    (patch_request, "", b'{"session_state": {"x": NaN}}', JSON,
     [ours("finite_number", ["body", "session_state", "x"], "Input should be a finite number", None)]),
    (create_request, "", b'{"metadata": {"x": [Infinity]}}', JSON,
     [ours("finite_number", ["body", "metadata", "x", 0], "Input should be a finite number", None)]),
    (patch_request, "", b"[1e400]", JSON, [ours("model_attributes_type", ["body"], OBJECT_MSG, [None])]),
    # AgentOS 500 (UnicodeDecodeError): a non-JSON body that is not UTF-8
    (patch_request, "", b'["\xc3"]', "text/plain",
     [ours("model_attributes_type", ["body"], OBJECT_MSG, '["\ufffd"]')]),
    # AgentOS 500 (TypeError / ValueError): SessionSummary(**summary)
    (patch_request, "", b'{"summary": {"topics": ["a"]}}', JSON,
     [ours("missing", ["body", "summary", "summary"], "Field required", {"topics": ["a"]})]),
    (patch_request, "", b'{"summary": {"summary": "s", "extra": 1, "updated_at": "bad"}}', JSON,
     [ours("extra_forbidden", ["body", "summary", "extra"], "Extra inputs are not permitted", 1),
      ours("datetime_parsing", ["body", "summary", "updated_at"],
           "Input should be a valid datetime, Invalid isoformat string: 'bad'", "bad",
           {"error": "Invalid isoformat string: 'bad'"})]),
    (patch_request, "", b'{"summary": {"summary": "s", "updated_at": 5}}', JSON,
     [ours("string_type", ["body", "summary", "updated_at"], "Input should be a valid string", 5)]),
    # our create extension (AgentOS ignores these keys)
    (create_request, "", b'{"runs": "x", "summary": 1}', JSON,
     [ours("list_type", ["body", "runs"], "Input should be a valid list", "x"),
      ours("dict_type", ["body", "summary"], "Input should be a valid dictionary", 1)]),
    (create_request, "", b'{"runs": [1, {"x": 1}, {"run_id": 2}]}', JSON,
     [ours("dict_type", ["body", "runs", 0], "Input should be a valid dictionary", 1)]),
    (create_request, "", b'{"runs": [{"x": 1}, {"run_id": 2}], "summary": {}}', JSON,
     [ours("missing", ["body", "runs", 0, "run_id"], "Field required", {"x": 1}),
      ours("string_type", ["body", "runs", 1, "run_id"], "Input should be a valid string", 2),
      ours("missing", ["body", "summary", "summary"], "Field required", {})]),
]


@pytest.mark.parametrize("fn,qs,raw,content_type,errors", OURS)
def test_our_422_where_agentos_500s(fn, qs, raw, content_type, errors):
    with pytest.raises(RequestInvalid) as exc:
        call(fn, qs, raw, content_type)
    assert exc.value.errors == errors
    rendered(exc.value)  # always renderable: no NaN, no lone surrogate


def test_page_zero_is_valid_for_agentos_bounds_then_ours():
    # page=-1 keeps AgentOS's exact ge=0 wording (recorded 422); 0 is our own ge=1 error
    with pytest.raises(RequestInvalid) as exc:
        list_query(args("page=-1"))
    assert exc.value.errors[0]["ctx"] == {"ge": 0}
    assert list_query(args("page=461168601842738791"))["page"] == 461168601842738791
    assert list_query(args("limit=9223372036854775807&page=2"))["limit"] == BIGINT_MAX
