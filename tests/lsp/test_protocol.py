"""`specstudio lsp` driven by a real LSP client (pytest-lsp / pygls)."""

import asyncio

from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import (
    SEED,
    apply_edits,
    diagnostics_until,
    open_doc,
    position_of,
)

ERROR = types.DiagnosticSeverity.Error


def doc_id(u):
    return types.TextDocumentIdentifier(uri=u)


async def test_seed_has_no_errors_pushed_or_pulled(client: LanguageClient):
    u = open_doc(client, SEED)
    pushed = await diagnostics_until(client, u, lambda ds: True)
    assert not [d for d in pushed if d.severity == ERROR], pushed
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=doc_id(u))
    )
    assert [d.code for d in report.items] == [d.code for d in pushed]


async def test_broken_dependent_resource_key_is_an_error_on_its_token(client):
    text = SEED.replace("dependentResourceKey: Master", "dependentResourceKey: Mastr")
    u = open_doc(client, text)
    ds = await diagnostics_until(client, u, lambda ds: any(d.severity == ERROR for d in ds))
    errors = [d for d in ds if d.severity == ERROR]
    start = position_of(text, "Mastr")
    assert any(
        d.range.start == start and d.range.end.character == start.character + 5
        for d in errors
    ), errors


async def test_incremental_change_clears_the_error(client):
    text = SEED.replace("dependentResourceKey: Master", "dependentResourceKey: Mastr")
    u = open_doc(client, text)
    await diagnostics_until(client, u, lambda ds: any(d.severity == ERROR for d in ds))
    at = position_of(text, "Mastr", 4)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=u, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text="e"
                )
            ],
        )
    )
    await diagnostics_until(client, u, lambda ds: not any(d.severity == ERROR for d in ds))


async def test_hover_on_compute_key(client):
    u = open_doc(client, SEED)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=doc_id(u),
            position=position_of(SEED, "x-omnistrate-compute", 4),
        )
    )
    assert hover is not None
    assert "x-omnistrate-compute" in hover.contents.value
    assert "Instance types" in hover.contents.value


async def test_completion_after_dependent_resource_key(client):
    text = SEED.replace("dependentResourceKey: Master", "dependentResourceKey: ")
    u = open_doc(client, text)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=doc_id(u),
            position=position_of(text, "dependentResourceKey: \n", 22),
        )
    )
    items = result.items if hasattr(result, "items") else result
    labels = [i.label for i in items]
    assert "Master" in labels and "ParameterGroup" in labels, labels
    assert "Replica" not in labels, "a service cannot depend on itself"


async def test_code_action_fix_clears_the_finding(client):
    u = open_doc(client, SEED)
    ds = await diagnostics_until(client, u, lambda ds: True)
    deprecated = [d for d in ds if d.code == "O002"]
    assert deprecated, ds
    target = deprecated[0]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc_id(u),
            range=target.range,
            context=types.CodeActionContext(diagnostics=[target]),
        )
    )
    fix = next(a for a in actions if a.is_preferred)
    ignore = next(a for a in actions if "specstudio-ignore" in a.title)
    assert ignore.edit.changes[u][0].new_text.strip() == "# specstudio-ignore: O002"
    fixed = apply_edits(SEED, fix.edit.changes[u])
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=u, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    await diagnostics_until(
        client, u, lambda ds: len([d for d in ds if d.code == "O002"]) == len(deprecated) - 1
    )


async def test_definition_of_master_reference(client):
    u = open_doc(client, SEED)
    result = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=doc_id(u), position=position_of(SEED, "$master.sys", 2)
        )
    )
    location = result[0] if isinstance(result, list) else result
    assert location.uri == u
    assert location.range.start == position_of(SEED, "  Master:", 2)
    assert location.range.end == position_of(SEED, "  Master:", 8)


async def test_rename_master_updates_every_reference(client):
    u = open_doc(client, SEED)
    at = position_of(SEED, "  Master:", 3)
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=doc_id(u), position=at)
    )
    assert prepared is not None
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=doc_id(u), position=at, new_name="Primary")
    )
    renamed = apply_edits(SEED, edit.changes[u])
    assert "Master:" not in renamed and "$master." not in renamed
    assert "dependentResourceKey: Primary" in renamed
    assert renamed.count("$primary.sys.network") == 2
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=u, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=renamed)],
        )
    )
    ds = await diagnostics_until(client, u, lambda ds: True)
    assert not [d for d in ds if d.severity == ERROR], ds


async def test_formatting_is_idempotent(client):
    messy = SEED.replace("  Master:\n    image:", "  Master:   \n    image:     ").replace(
        "services:\n", "services:\n\n\n"
    )
    u = open_doc(client, messy)
    options = types.FormattingOptions(tab_size=2, insert_spaces=True)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc_id(u), options=options)
    )
    formatted = apply_edits(messy, edits)
    # Trailing spaces go, runs of blank lines shrink to one.
    assert formatted == SEED.replace("services:\n", "services:\n\n")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=u, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=formatted)],
        )
    )
    again = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc_id(u), options=options)
    )
    assert not again


async def test_symbols_and_folding(client):
    u = open_doc(client, SEED)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc_id(u))
    )
    services = next(s for s in symbols if s.name == "services")
    assert [s.name for s in services.children] == ["Master", "Replica", "ParameterGroup"]
    folds = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=doc_id(u))
    )
    assert any(f.start_line == position_of(SEED, "  Master:").line for f in folds)


async def test_out_of_range_and_unknown_requests(client):
    u = open_doc(client, SEED)
    far = types.Position(line=10_000, character=10_000)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc_id(u), position=far)
    )
    assert hover is None
    unknown = doc_id("file:///nowhere.yaml")
    assert (
        await client.text_document_definition_async(
            types.DefinitionParams(text_document=unknown, position=far)
        )
        is None
    )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=u, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=far, end=types.Position(line=0, character=0)),
                    text="services:\n  \x00\t{[: garbage: [",
                )
            ],
        )
    )
    # Still serving: the document is now garbage, and it says so.
    await diagnostics_until(client, u, lambda ds: any(d.severity == ERROR for d in ds))
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc_id(u))
    )
    assert symbols == [] or symbols is None


async def test_yaml_that_is_not_a_spec_gets_no_findings(client):
    workflow = "name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n"
    u = open_doc(client, workflow, name="ci.yaml")
    assert len(await diagnostics_until(client, u, lambda ds: True)) == 0
    # The same text named like a compose file is checked.
    u = open_doc(client, workflow, name="compose.yaml")
    ds = await diagnostics_until(client, u, lambda ds: len(ds) > 0)
    assert any(d.severity == ERROR for d in ds), ds


async def test_pull_diagnostics_in_utf8_for_a_pulling_client(pull_client):
    client = pull_client
    assert client.init_result.capabilities.position_encoding == "utf-8"
    text = "# é😀\n" + SEED.replace("dependentResourceKey: Master", "dependentResourceKey: Mastr")
    u = open_doc(client, text)
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=doc_id(u))
    )
    errors = [d for d in report.items if d.severity == ERROR]
    line = text[: text.index("Mastr")].count("\n")
    column = len(text[text.rfind("\n", 0, text.index("Mastr")) + 1 : text.index("Mastr")].encode())
    assert any(d.range.start.line == line and d.range.start.character == column for d in errors)
    # A pulling client gets no pushed copy of the same findings (the push
    # would come right after the open; wait well past it).
    await asyncio.sleep(0.3)
    assert u not in client.diagnostics


async def test_references_and_reference_completion(client):
    u = open_doc(client, SEED)
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc_id(u),
            position=position_of(SEED, "key: mysqlPassword", 7),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    # The declaration and both `$parameterGroup.var.mysqlPassword` uses.
    assert len(refs) == 3, refs
    text = SEED.replace("MYSQL_REPLICATION_MODE=slave", "MYSQL_REPLICATION_MODE=$master.sys.")
    u = open_doc(client, text, name="other.yaml")
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=doc_id(u),
            position=position_of(text, "=$master.sys.\n", len("=$master.sys.")),
        )
    )
    items = result.items if hasattr(result, "items") else result
    assert any(i.label.startswith("network.") for i in items), [i.label for i in items][:10]
