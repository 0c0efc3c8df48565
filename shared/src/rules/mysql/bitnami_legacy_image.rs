use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::images::parse_image;
use crate::rules::{Context, Rule, Sink};
use crate::span::Span;

declare_rule! {
    /// ## What
    /// A versioned `docker.io/bitnami/mysql:<tag>` (or `bitnami/mysql:<tag>`,
    /// `bitnami/mariadb:<tag>`) image.
    ///
    /// ## Why
    /// On 2025-08-28 Bitnami moved its versioned Debian images from
    /// `docker.io/bitnami` to `docker.io/bitnamilegacy`, where they get no more
    /// updates; the free `bitnami/` namespace keeps only hardened `latest`
    /// images. Pulling a versioned `bitnami/mysql` tag may fail. Consider a
    /// maintained image for production.
    ///
    /// ## Example
    /// ```yaml
    /// image: docker.io/bitnami/mysql:8.1.0   # → docker.io/bitnamilegacy/mysql:8.1.0
    /// ```
    pub struct BitnamiLegacyImage {
        code: "M009",
        name: "bitnami-legacy-image",
        severity: Info,
        layer: Mysql,
        summary: "Versioned `bitnami/mysql` images moved to `bitnamilegacy`",
        help: "Use `docker.io/bitnamilegacy/mysql:<tag>` (no further updates), or move to a maintained image.",
        fixable: true,
    }
}

impl Rule for BitnamiLegacyImage {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            let Some(image) = &service.image else {
                continue;
            };
            let parsed = parse_image(&image.value);
            let Some(tag) = parsed.tag else { continue };
            if tag == "latest"
                || parsed.digest
                || !matches!(parsed.registry, None | Some("docker.io"))
                || !matches!(parsed.path, "bitnami/mysql" | "bitnami/mariadb")
            {
                continue;
            }
            let diagnostic = sink.at_span(
                image.span,
                Some(image.node),
                format!("`{}` moved to `bitnamilegacy` on 2025-08-28", image.value),
            );
            let exact =
                ctx.text.get(image.span.start..image.span.end) == Some(image.value.as_str());
            let at = image.value.find("bitnami/").unwrap_or_default();
            let repo = parsed.path.replacen("bitnami/", "bitnamilegacy/", 1);
            diagnostic.help(format!(
                "Use `docker.io/{repo}:{tag}` (it gets no further updates), or move to a maintained image."
            ));
            if exact {
                let legacy = format!(
                    "{}bitnamilegacy/{}",
                    &image.value[..at],
                    &image.value[at + "bitnami/".len()..]
                );
                diagnostic.fix(Fix::replace(
                    format!("Use `{legacy}`"),
                    Span::new(
                        image.span.start + at,
                        image.span.start + at + "bitnami".len(),
                    ),
                    "bitnamilegacy",
                ));
            }
        }
    }
}
