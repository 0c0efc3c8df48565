"""Shared set-up: the `specstudio` binary under test and a pytest-lsp client."""

import asyncio
import os
import pathlib
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEED_PATH = ROOT / "examples" / "serverless-mysql-master-replica.yaml"
SEED = SEED_PATH.read_text()


def server_binary() -> str:
    """`$SPECSTUDIO_BIN`, else the debug build in the cargo target dir."""
    explicit = os.environ.get("SPECSTUDIO_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(pathlib.Path(target) / "debug" / "specstudio")


BIN = server_binary()
if not os.access(BIN, os.X_OK):
    message = f"specstudio binary not found at {BIN} (cargo build -p specstudio first)"
    if os.environ.get("CI") == "true":
        raise SystemExit(message)
    print(f"\n!!! SKIPPING the LSP suite: {message}\n", file=sys.stderr)
    pytest.skip(message, allow_module_level=True)


def accept_registrations(lsp_client: LanguageClient):
    """Answer `client/registerCapability` as VS Code does (the server asks to
    watch files when the client can), keeping what was registered."""
    lsp_client.registrations = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams):
        lsp_client.registrations.extend(params.registrations)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[BIN, "lsp"]))
async def client(lsp_client: LanguageClient):
    accept_registrations(lsp_client)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=ROOT.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[BIN, "lsp"]))
async def pull_client(lsp_client: LanguageClient):
    """A client that pulls diagnostics and offers UTF-8 positions (Neovim 0.11)."""
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim@v0.11.0"),
            root_uri=ROOT.as_uri(),
        )
    )
    lsp_client.init_result = result
    yield
    await lsp_client.shutdown_session()


def uri(name: str = "spec.yaml") -> str:
    return (ROOT / "tests" / "lsp" / "workspace" / name).as_uri()


def open_doc(client: LanguageClient, text: str, name: str = "spec.yaml") -> str:
    u = uri(name)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=u, language_id="yaml", version=1, text=text
            )
        )
    )
    return u


async def diagnostics_until(client: LanguageClient, u: str, predicate, timeout=10.0):
    """The pushed diagnostics for `u` once `predicate` holds for them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        got = client.diagnostics.get(u)
        if got is not None and predicate(got):
            return got
        try:
            await asyncio.wait_for(
                client.wait_for_notification("textDocument/publishDiagnostics"),
                timeout=max(0.01, deadline - loop.time()),
            )
        except asyncio.TimeoutError:
            break
    raise AssertionError(f"diagnostics for {u} never matched; last: {client.diagnostics.get(u)}")


def position_of(text: str, needle: str, plus: int = 0) -> types.Position:
    """UTF-16 position of `needle` (+ `plus` characters) in `text`."""
    offset = text.index(needle) + plus
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    character = len(text[start:offset].encode("utf-16-le")) // 2
    return types.Position(line=line, character=character)


def apply_edits(text: str, edits) -> str:
    """Apply LSP text edits (UTF-16 positions, non-overlapping) to `text`."""
    lines = text.split("\n")

    def offset(p: types.Position) -> int:
        before = sum(len(l) + 1 for l in lines[: p.line])
        line = lines[p.line] if p.line < len(lines) else ""
        units = 0
        for i, ch in enumerate(line):
            if units >= p.character:
                return before + i
            units += len(ch.encode("utf-16-le")) // 2
        return before + len(line)

    spans = sorted(
        ((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text
