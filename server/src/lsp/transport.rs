//! LSP base protocol over stdio (`Content-Length` framed JSON-RPC), tolerant
//! of garbage: a frame that is not a JSON-RPC message is logged to stderr and
//! skipped, an oversized frame is drained and skipped, and only the end of
//! input (or an `exit`) stops the reader.

use std::io::{self, BufRead, Read, Write};
use std::thread;

use crossbeam_channel::{bounded, Receiver, Sender};
use lsp_server::Message;

/// Frames larger than this are read and dropped (no spec is this big).
pub const MAX_FRAME_BYTES: usize = 64 << 20;

/// Reader and writer threads on the process's stdin/stdout.
pub fn stdio() -> (Sender<Message>, Receiver<Message>, thread::JoinHandle<()>) {
    let (to_client, outgoing) = bounded::<Message>(64);
    let writer = thread::spawn(move || {
        let stdout = io::stdout();
        let mut stdout = stdout.lock();
        for message in outgoing {
            if message.write(&mut stdout).is_err() {
                break;
            }
            let _ = stdout.flush();
        }
    });
    let (incoming, from_client) = bounded::<Message>(64);
    thread::spawn(move || {
        let stdin = io::stdin();
        read_messages(&mut stdin.lock(), &incoming);
    });
    (to_client, from_client, writer)
}

/// Read frames until end of input, sending each message that parses.
pub fn read_messages(input: &mut impl BufRead, sink: &Sender<Message>) {
    loop {
        let body = match read_frame(input) {
            Ok(Some(body)) => body,
            Ok(None) => return,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                eprintln!("specstudio lsp: skipped a frame: {e}");
                continue;
            }
            Err(_) => return,
        };
        match serde_json::from_slice::<Message>(&body) {
            Ok(message) => {
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if sink.send(message).is_err() || exit {
                    return;
                }
            }
            Err(e) => eprintln!("specstudio lsp: ignored a message that is not JSON-RPC: {e}"),
        }
    }
}

/// One frame's body; `None` at end of input. Headers other than
/// `Content-Length` are ignored; a header block without it is skipped.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut length: Option<usize> = None;
    let mut saw_header = false;
    let mut line = String::new();
    loop {
        line.clear();
        // Header lines are short; a runaway line is cut off by `take`.
        let n = input.by_ref().take(8192).read_line(&mut line);
        match n {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "header is not UTF-8",
                ))
            }
            Err(e) => return Err(e),
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let Some(length) = length else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no valid Content-Length header",
        ));
    };
    if length > MAX_FRAME_BYTES {
        io::copy(&mut input.by_ref().take(length as u64), &mut io::sink())?;
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {length} bytes is over the {MAX_FRAME_BYTES}-byte limit"),
        ));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn garbage_frames_are_skipped() {
        let good = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let input = format!(
            "{}{}X-Junk: 1\r\n\r\n{}{}",
            frame("not json"),
            frame(r#"{"jsonrpc":"2.0","id":{},"method":5}"#),
            frame(good),
            frame(good)
        );
        let (tx, rx) = bounded(16);
        read_messages(&mut input.as_bytes(), &tx);
        drop(tx);
        assert_eq!(rx.iter().count(), 2);
    }

    #[test]
    fn oversized_frames_are_drained() {
        let input = format!("Content-Length: {}\r\n\r\n", MAX_FRAME_BYTES + 1);
        let mut bytes = input.into_bytes();
        bytes.extend(std::iter::repeat_n(b' ', MAX_FRAME_BYTES + 1));
        bytes.extend(frame(r#"{"jsonrpc":"2.0","method":"initialized"}"#).bytes());
        let (tx, rx) = bounded(16);
        read_messages(&mut bytes.as_slice(), &tx);
        drop(tx);
        assert_eq!(rx.iter().count(), 1);
    }
}
