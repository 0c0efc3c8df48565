//! The one place a document is analysed for the language server.

use lsp_types::Uri;
use shared::Analysis;

/// Analyse one document.
///
/// This is where the project config file (`specstudio.toml`, found from the
/// document's `uri`) and `# specstudio-ignore: CODE` comments will be applied
/// once the validator supports them; until then it is `shared::analyze`.
pub fn analyze(_uri: &Uri, text: &str) -> Analysis {
    shared::analyze(text)
}
