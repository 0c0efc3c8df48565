//! YAML-level rules: the document could not be read as written.

mod alias_expansion;
mod analysis_stopped;
mod duplicate_key;
mod input_too_large;
mod lenient_indentation;
mod more_diagnostics;
mod multiple_documents;
mod nesting_too_deep;
mod recursive_alias;
mod syntax_error;
mod tab_indentation;

use super::{Context, Rule, Sink};
use crate::syntax::YamlProblemKind;

pub use alias_expansion::AliasExpansion;
pub use analysis_stopped::AnalysisStopped;
pub use duplicate_key::DuplicateKey;
pub use input_too_large::InputTooLarge;
pub use lenient_indentation::LenientIndentation;
pub use more_diagnostics::MoreDiagnostics;
pub use multiple_documents::MultipleDocuments;
pub use nesting_too_deep::NestingTooDeep;
pub use recursive_alias::RecursiveAlias;
pub use syntax_error::SyntaxError;
pub use tab_indentation::TabIndentation;

pub const RULES: &[&dyn Rule] = &[
    &SyntaxError,
    &DuplicateKey,
    &TabIndentation,
    &InputTooLarge,
    &NestingTooDeep,
    &AliasExpansion,
    &RecursiveAlias,
    &MultipleDocuments,
    &LenientIndentation,
    &AnalysisStopped,
    &MoreDiagnostics,
];

/// Report each YAML problem for which `message` has something to say, where
/// the parser found it.
fn report_each(
    ctx: &Context,
    sink: &mut Sink,
    message: impl Fn(&YamlProblemKind) -> Option<String>,
) {
    for problem in ctx.yaml_problems {
        if let Some(message) = message(&problem.kind) {
            sink.at_span(problem.span, None, message);
        }
    }
}
