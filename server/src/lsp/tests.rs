//! The message loop in process: a seeded storm of edits and requests at random
//! positions (many past the end) over garbage text; every request must get
//! exactly one answer and the loop must end cleanly on `exit`.

use std::collections::HashSet;

use crossbeam_channel::unbounded;
use lsp_server::{Message, Notification, Request, RequestId};
use serde_json::json;

const SEED: &str = include_str!("../../../examples/serverless-mysql-master-replica.yaml");

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn a_storm_of_random_requests_is_answered_and_survived() {
    let (to_server, from_client) = unbounded();
    let (to_client, from_server) = unbounded();
    let server = std::thread::spawn(move || super::serve(&to_client, &from_client));
    let send = |m: Message| to_server.send(m).unwrap();
    let request = |id: i32, method: &str, params: serde_json::Value| {
        Message::Request(Request::new(RequestId::from(id), method.into(), params))
    };
    let notify = |method: &str, params: serde_json::Value| {
        Message::Notification(Notification::new(method.into(), params))
    };
    let uri = "file:///storm/compose.yaml";
    send(request(0, "initialize", json!({"capabilities": {}})));
    send(notify("initialized", json!({})));
    send(notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": SEED}}),
    ));
    let methods = [
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/definition",
        "textDocument/references",
        "textDocument/prepareRename",
        "textDocument/rename",
        "textDocument/codeAction",
        "textDocument/documentSymbol",
        "textDocument/formatting",
        "textDocument/foldingRange",
        "textDocument/diagnostic",
    ];
    let fragments = [
        "",
        "x",
        ": ",
        "\n",
        "- ",
        "$master.",
        "{{ $var.",
        "é😀",
        "\t",
        "&a *a",
        "[{",
        "'",
        "services:\n  A:\n",
    ];
    let mut rng = Rng(0x5eed);
    let pos = |rng: &mut Rng| {
        let big = rng.below(10) == 0;
        let line = if big {
            rng.below(1 << 31)
        } else {
            rng.below(200)
        };
        let character = if big {
            rng.below(1 << 31)
        } else {
            rng.below(90)
        };
        json!({"line": line, "character": character})
    };
    let mut expected = HashSet::new();
    for i in 1..=1500 {
        if rng.below(3) == 0 {
            let text = fragments[rng.below(fragments.len() as u64) as usize];
            send(notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": i + 1},
                       "contentChanges": [{"range": {"start": pos(&mut rng), "end": pos(&mut rng)}, "text": text}]}),
            ));
            continue;
        }
        let method = methods[rng.below(methods.len() as u64) as usize];
        let at = pos(&mut rng);
        let params = json!({
            "textDocument": {"uri": uri},
            "position": at,
            "range": {"start": at, "end": pos(&mut rng)},
            "context": {"diagnostics": [], "includeDeclaration": true},
            "newName": "Renamed",
            "options": {"tabSize": 2, "insertSpaces": true},
        });
        send(request(i, method, params));
        expected.insert(RequestId::from(i));
    }
    send(request(100_000, "shutdown", json!(null)));
    send(notify("exit", json!(null)));
    let code = server.join().expect("the loop never panics");
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let mut answered = HashSet::new();
    for message in from_server.try_iter() {
        if let Message::Response(r) = message {
            if let Err(e) = &r.response_result {
                // Only refusals a client can act on, never an internal error.
                assert_ne!(e.code, lsp_server::ErrorCode::InternalError as i32, "{e:?}");
            }
            assert!(answered.insert(r.id.clone()), "answered twice: {:?}", r.id);
        }
    }
    for id in &expected {
        assert!(answered.contains(id), "no answer to {id:?}");
    }
}
