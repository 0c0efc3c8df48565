"""The wire itself: garbage frames, requests out of order, bad params, the
UTF-8 position encoding, shutdown and exit. A plain subprocess speaking
JSON-RPC, so the client library cannot tidy anything up for us."""

import json
import subprocess

from conftest import BIN, SEED


class Wire:
    def __init__(self):
        self.proc = subprocess.Popen(
            [BIN, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.next_id = 0

    def raw(self, data: bytes):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict):
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def read(self) -> dict:
        length = None
        while True:
            line = self.proc.stdout.readline()
            assert line, "the server closed its output"
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def request(self, method: str, params) -> dict:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.read()
            if message.get("id") == self.next_id:
                return message

    def notify(self, method: str, params):
        self.send({"method": method, "params": params})

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


def test_garbage_and_out_of_order_messages_are_survived():
    w = Wire()
    try:
        w.raw(b"Content-Length: 9\r\n\r\nnot json!")
        w.raw(b"X-Nothing: here\r\n\r\n")
        w.raw(b'Content-Length: 2\r\n\r\n[]')
        early = w.request("textDocument/hover", {})
        assert early["error"]["code"] == -32002, early  # ServerNotInitialized
        init = w.request(
            "initialize",
            {"capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}},
        )
        assert init["result"]["capabilities"]["positionEncoding"] == "utf-8"
        w.notify("initialized", {})
        assert w.request("initialize", {"capabilities": {}})["error"]["code"] == -32600
        uri = "file:///tmp/specstudio-raw-test.yaml"
        text = "# é😀 before\n" + SEED
        w.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
        )
        # UTF-8 columns: `x-omnistrate-compute` after a line of multibyte text.
        line = text[: text.index("x-omnistrate-compute")].count("\n")
        hover = w.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": 6}},
        )
        assert "x-omnistrate-compute" in hover["result"]["contents"]["value"]
        bad = [
            ("textDocument/hover", {"nonsense": True}, -32602),
            ("textDocument/completion", [1, 2, 3], -32602),
            ("textDocument/rename", {"textDocument": {"uri": uri}, "position": {"line": -1}}, -32602),
            ("specstudio/unknown", {}, -32601),
        ]
        for method, params, code in bad:
            assert w.request(method, params)["error"]["code"] == code, method
        far = {"line": 1 << 30, "character": 1 << 30}
        for method in ["textDocument/hover", "textDocument/completion", "textDocument/definition",
                       "textDocument/prepareRename"]:
            reply = w.request(method, {"textDocument": {"uri": uri}, "position": far})
            assert "error" not in reply, reply
        w.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                            "contentChanges": [{"range": {"start": far, "end": {"line": 0, "character": 0}},
                                                                "text": "\u0000{[garbage"}]})
        w.notify("textDocument/didChange", {"bogus": 1})
        w.notify("textDocument/didClose", {"textDocument": {"uri": "file:///never-opened"}})
        folds = w.request("textDocument/foldingRange", {"textDocument": {"uri": uri}})
        assert folds["result"] == [], folds
        assert w.request("shutdown", None)["result"] is None
        assert w.request("textDocument/hover", {})["error"]["code"] == -32600
        w.notify("exit", None)
        assert w.proc.wait(timeout=10) == 0
    finally:
        w.close()


def test_exit_without_shutdown_is_an_error_exit():
    w = Wire()
    try:
        w.request("initialize", {"capabilities": {}})
        w.notify("exit", None)
        assert w.proc.wait(timeout=10) == 1
    finally:
        w.close()


def test_end_of_input_stops_the_server():
    w = Wire()
    try:
        w.proc.stdin.close()
        w.proc.wait(timeout=10)
        assert w.proc.poll() is not None
    finally:
        w.proc.stdin = open("/dev/null", "wb")
        w.close()
