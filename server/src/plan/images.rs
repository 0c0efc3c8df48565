//! The operator's image map (`--image-map from=to`) and image name normalisation.

#[allow(unused_imports)]
use super::*;

/// `FROM=TO` image rewrites; `FROM` may hold `*` wildcards.
#[derive(Clone, Debug, Default)]
pub struct ImageMap(pub Vec<(String, String)>);

impl ImageMap {
    pub fn parse(items: &[String]) -> Result<ImageMap, String> {
        let mut out = Vec::new();
        for item in items {
            for part in item.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (from, to) = part
                    .split_once('=')
                    .ok_or_else(|| format!("--image-map `{part}`: expected FROM=TO"))?;
                if from.is_empty() || to.is_empty() {
                    return Err(format!("--image-map `{part}`: expected FROM=TO"));
                }
                out.push((from.to_owned(), to.to_owned()));
            }
        }
        Ok(ImageMap(out))
    }

    /// The image to run for `image`.
    pub fn map(&self, image: &str) -> String {
        let normalized = normalize_image(image);
        for (from, to) in &self.0 {
            if glob(from, image)
                || glob(from, &normalized)
                || glob(&normalize_image(from), &normalized)
            {
                return to.clone();
            }
        }
        image.to_owned()
    }
}

/// `bitnami/mysql:8` → `docker.io/bitnami/mysql:8`; `mysql` → `docker.io/library/mysql`.
pub fn normalize_image(image: &str) -> String {
    let first = image.split('/').next().unwrap_or(image);
    let has_registry =
        image.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_registry {
        image.to_owned()
    } else if image.contains('/') {
        format!("docker.io/{image}")
    } else {
        format!("docker.io/library/{image}")
    }
}

/// Glob with `*` (any run of characters).
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    let first = parts[0];
    if !rest.starts_with(first) {
        return false;
    }
    rest = &rest[first.len()..];
    let last = parts[parts.len() - 1];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Whether the spec's image or the image it was mapped to speaks bitnami's
/// MySQL contract: the one classification the MySQL rules use.
pub fn is_bitnami_mysql(source: &str, mapped: &str) -> bool {
    shared::images::is_bitnami_mysql(source) || shared::images::is_bitnami_mysql(mapped)
}
