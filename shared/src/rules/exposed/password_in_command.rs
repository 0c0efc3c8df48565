use super::strings_of;
use crate::declare_rule;
use crate::exposed::{flag_passwords, words};
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A literal secret passed as a command-line flag in `command` or
    /// `entrypoint`: `--password=…`, `--token …`, or `-p…` for the MySQL and
    /// MariaDB clients.
    ///
    /// ## Why
    /// Command lines are shown by `docker inspect` and `ps`, travel with
    /// share links and end up in logs. A secret belongs in an api-param with
    /// `export: false`, referenced by a template.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Probe:
    ///     image: mysql:8
    ///     command: mysqladmin ping -uroot -phunter2   # the password is in clear
    /// ```
    pub struct PasswordInCommand {
        code: "S003",
        name: "password-in-command",
        severity: Warning,
        layer: Secrets,
        summary: "A secret is written in a command-line flag",
        help: "Declare an api-param of type `Password` (or `export: false`) and reference it, e.g. `--password=$var.password`.",
        fixable: true,
    }
}

impl Rule for PasswordInCommand {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            for field in ["command", "entrypoint"] {
                let nodes = strings_of(tree, service, field);
                // a list is one word per item; a string is split on spaces
                let texts: Vec<(&str, crate::syntax::NodeId)> = nodes
                    .iter()
                    .filter_map(|n| Some((tree.str(*n)?, *n)))
                    .collect();
                let mut all: Vec<(&str, usize, crate::syntax::NodeId)> = Vec::new();
                for (t, n) in &texts {
                    if texts.len() == 1 {
                        all.extend(words(t).into_iter().map(|(w, o)| (w, o, *n)));
                    } else {
                        all.push((t, 0, *n));
                    }
                }
                let flat: Vec<(&str, usize)> = all.iter().map(|(w, o, _)| (*w, *o)).collect();
                for (a, b) in flag_passwords(&flat) {
                    let Some((_, _, node)) =
                        all.iter().find(|(w, o, _)| a >= *o && b <= o + w.len())
                    else {
                        continue;
                    };
                    let span = tree.sub_span(*node, a, b);
                    super::report_clear_secret(
                        sink,
                        span,
                        b - a,
                        *node,
                        format!(
                            "`{field}` of service `{}` passes a secret in clear on the command line",
                            service.name.value
                        ),
                    );
                }
            }
        }
    }
}
