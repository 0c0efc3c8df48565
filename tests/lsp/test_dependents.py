"""A spec's diagnostics follow the files it includes or extends: edited in
the editor (didChange) or on disk (didChangeWatchedFiles), the open
dependents are analysed again and their diagnostics re-published."""

import asyncio

from lsprotocol import types

from conftest import diagnostics_until

ERROR = types.DiagnosticSeverity.Error
SPEC = "include:\n  - db.yaml\nservices:\n  web:\n    extends:\n      file: base.yaml\n      service: base\n    depends_on: [db]\n"
DB_OK = "services:\n  db:\n    image: postgres:16\n"
DB_BAD = 'services:\n  db:\n    image: postgres:16\n    ports:\n      - "99999:5432"\n'
BASE_OK = "services:\n  base:\n    image: nginx:1.27\n"
BASE_BAD = 'services:\n  base:\n    image: nginx:1.27\n    ports:\n      - "70000:80"\n'


def open_file(client, path, text, version=1):
    u = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=u, language_id="yaml", version=version, text=text
            )
        )
    )
    return u


def replace_all(client, u, text, version):
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=u, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def errors_naming(ds, needle):
    return [d for d in ds if d.severity == ERROR and needle in d.message]


async def test_dependents_follow_their_included_and_extended_files(client, tmp_path):
    (tmp_path / "db.yaml").write_text(DB_OK)
    (tmp_path / "base.yaml").write_text(BASE_OK)
    spec = open_file(client, tmp_path / "compose.yaml", SPEC)
    await diagnostics_until(client, spec, lambda ds: not [d for d in ds if d.severity == ERROR])

    # The server asked to be told about YAML files changing on disk.
    watched = [r for r in client.registrations if r.method == "workspace/didChangeWatchedFiles"]
    assert watched, client.registrations

    # The included file, opened and edited in the editor (not saved): the
    # spec's diagnostics follow the editor's text.
    db = open_file(client, tmp_path / "db.yaml", DB_OK)
    replace_all(client, db, DB_BAD, 2)
    ds = await diagnostics_until(client, spec, lambda ds: errors_naming(ds, "99999"))
    assert any("from the included `db.yaml` line 5" in d.message for d in errors_naming(ds, "99999"))
    replace_all(client, db, DB_OK, 3)
    await diagnostics_until(client, spec, lambda ds: not errors_naming(ds, "99999"))

    # The extended file, changed on disk and reported by the client.
    (tmp_path / "base.yaml").write_text(BASE_BAD)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(
                    uri=(tmp_path / "base.yaml").as_uri(), type=types.FileChangeType.Changed
                )
            ]
        )
    )
    ds = await diagnostics_until(client, spec, lambda ds: errors_naming(ds, "70000"))
    assert any("base.yaml` line 5" in d.message for d in errors_naming(ds, "70000"))

    # Deleted on disk: the spec says the base cannot be read.
    (tmp_path / "base.yaml").unlink()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(
                    uri=(tmp_path / "base.yaml").as_uri(), type=types.FileChangeType.Deleted
                )
            ]
        )
    )
    await diagnostics_until(client, spec, lambda ds: errors_naming(ds, "cannot read `base.yaml`"))

    # A file nobody reads changes: nothing is re-published for the spec.
    before = client.diagnostics[spec]
    (tmp_path / "other.yaml").write_text("services: {}\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(
                    uri=(tmp_path / "other.yaml").as_uri(), type=types.FileChangeType.Created
                )
            ]
        )
    )
    await asyncio.sleep(0.5)
    assert client.diagnostics[spec] is before


async def test_a_pulling_client_pulls_fresh_diagnostics_after_a_dependency_changes(
    pull_client, tmp_path
):
    client = pull_client
    (tmp_path / "db.yaml").write_text(DB_OK)
    (tmp_path / "base.yaml").write_text(BASE_OK)
    spec = open_file(client, tmp_path / "compose.yaml", SPEC)

    async def pulled():
        report = await client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=spec))
        )
        return report.items

    assert not [d for d in await pulled() if d.severity == ERROR]
    db = open_file(client, tmp_path / "db.yaml", DB_OK)
    replace_all(client, db, DB_BAD, 2)
    assert errors_naming(await pulled(), "99999")
    # Closed unsaved: the spec reads the file on disk again.
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=db))
    )
    assert not errors_naming(await pulled(), "99999")
