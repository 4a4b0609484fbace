"""A minimal Lambda custom-runtime loop for the seed handler: import the
handler module (its boto3 resource is created at import, as in Lambda's
init), then poll the Runtime API at AWS_LAMBDA_RUNTIME_API and answer.

Lambda's own Python runtime (awslambdaric) does more than this before the
first answer (its own imports, logging setup), so the seed's cold start
measured here is, if anything, shorter than in Lambda: the ratio the
benchmark reports does not flatter the Rust function.
"""
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lambda_function  # noqa: E402  (init: boto3 resource and table)

PREFIX = "/2018-06-01/runtime/invocation"


def main():
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
    api = http.client.HTTPConnection(host, int(port))
    while True:
        api.request("GET", PREFIX + "/next")
        response = api.getresponse()
        event = json.loads(response.read())
        request_id = response.getheader("lambda-runtime-aws-request-id")
        answer = lambda_function.lambda_handler(event, None)
        api.request("POST", f"{PREFIX}/{request_id}/response", json.dumps(answer))
        api.getresponse().read()


if __name__ == "__main__":
    main()
