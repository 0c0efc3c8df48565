"""Schemathesis hooks for scripts/schemathesis-stateful.sh (the stateful
phase against a server with Docker).

- Every `POST /api/specs` stores `stateful-spec.yaml`, which the link
  `DeploySpec` deploys by its `specId` (a generated spec would be refused as
  invalid, and nothing would be created to follow the links from); the
  `greeting` param of a deployment, and of every `PATCH`, is drawn from the
  generated body, so valid and refused values both occur.
- The check `no_secret_in_answers` fails when an answer shows a secret: the
  bearer token, or a value the server generated for a deployment (shown once,
  in the `202` that created it, and never again).
"""
import json
import os
import pathlib

import schemathesis

SPEC = pathlib.Path(__file__).with_name("stateful-spec.yaml").read_text()
TOKEN = os.environ.get("SPECSTUDIO_TOKEN", "")
GENERATED = set()


def _is(operation, method, path):
    return (
        operation is not None
        and operation.method.upper() == method
        and operation.path == path
    )


def _greeting(body):
    """A greeting drawn from the generated body: mostly a word, sometimes
    what was generated (a number, an empty or odd string, a non-string)."""
    params = body.get("params") if isinstance(body, dict) else None
    drawn = next(iter(params.values()), None) if isinstance(params, dict) and params else None
    if isinstance(drawn, str) and len(drawn) < 64 and hash(drawn) % 3 == 0:
        return drawn
    if drawn is not None and hash(repr(drawn)) % 5 == 0:
        return drawn
    return f"hello-{abs(hash(repr(body))) % 10000}"


@schemathesis.hook
def map_body(ctx, body):
    if _is(ctx.operation, "POST", "/api/specs"):
        return SPEC
    if _is(ctx.operation, "POST", "/api/deployments"):
        # the link from POST /api/specs adds `specId` (a random spec would be
        # refused, and nothing followed from it)
        return {"params": {"greeting": _greeting(body)}}
    if _is(ctx.operation, "PATCH", "/api/deployments/{id}"):
        return {"params": {"greeting": _greeting(body)}}
    return body


@schemathesis.check
def no_secret_in_answers(ctx, response, case):
    text = response.content.decode("utf-8", errors="replace")
    if _is(case.operation, "POST", "/api/deployments") and response.status_code == 202:
        generated = json.loads(text).get("generated") or {}
        GENERATED.update(v for v in generated.values() if v)
        # the one answer that shows them; the token never
        secrets = {TOKEN}
    else:
        secrets = GENERATED | {TOKEN}
    leaked = sorted(s for s in secrets if s and s in text)
    if leaked:
        raise AssertionError(
            f"{case.operation.method.upper()} {case.operation.path} answered with "
            f"{len(leaked)} secret value(s) ({response.status_code})"
        )
    return None
