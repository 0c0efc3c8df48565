//! `cargo run -p xtask -- size [--max-kb N]`: the gzipped size (gzip -9) of
//! the app's own wasm + JS that the first load fetches, Monaco apart, from
//! `dist/` as `build-ui` left it; fails when it is over `--max-kb` (KB =
//! 1,024 bytes). The lazily loaded split chunks and the docs file are listed,
//! not counted (a page that never opens the deploy drawer never fetches its
//! chunk; the docs come with the first hover); vim mode is left out.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::Result;

/// One file of the report.
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) raw: u64,
    pub(crate) gzip: u64,
    /// Fetched by the first load (counted) or only on demand.
    pub(crate) first_load: bool,
}

/// gzip -9 of `bytes` (flate2's best level, as `build-ui` writes `.gz`).
pub(crate) fn gzip_len(bytes: &[u8]) -> u64 {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = enc.write_all(bytes);
    enc.finish().map(|v| v.len() as u64).unwrap_or(u64::MAX)
}

/// What `dist/` holds of the app's own code, by its served (hashed) names.
pub(crate) fn report(dist: &Path) -> Result<Vec<Entry>> {
    let html = fs::read_to_string(dist.join("index.html")).map_err(|e| {
        format!("dist/index.html: {e} (run `cargo run -p xtask -- build-ui` first)")
    })?;
    let mut out = Vec::new();
    let mut add = |name: String, first_load: bool| -> Result<()> {
        let bytes = fs::read(dist.join(&name)).map_err(|e| format!("dist/{name}: {e}"))?;
        out.push(Entry {
            raw: bytes.len() as u64,
            gzip: gzip_len(&bytes),
            name,
            first_load,
        });
        Ok(())
    };
    // Scripts and the module `index.html` names (Monaco's `vs-*` apart).
    let mut seen: Vec<&str> = Vec::new();
    for quote in html.split(['"', '\'']) {
        let name = quote.trim_start_matches('/');
        let ours = (name.ends_with(".js") || name.ends_with(".wasm"))
            && !name.starts_with("vs-")
            && !name.contains(' ')
            && !name.contains("monaco-vim");
        if ours && quote.starts_with('/') && dist.join(name).is_file() && !seen.contains(&name) {
            seen.push(name);
            add(name.to_owned(), true)?;
        }
    }
    let pkg = dist.join("pkg");
    let mut names: Vec<String> = fs::read_dir(&pkg)
        .map_err(|e| format!("dist/pkg: {e}"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // The split's link file (hashed like the glue that imports it).
    if let Some(link) = names
        .iter()
        .find(|n| n.starts_with("__wasm_split.") && n.ends_with(".js") && n.len() > 20)
    {
        add(format!("pkg/{link}"), true)?;
    }
    // Snippets the glue imports.
    let mut snippets = Vec::new();
    crate::walk(&pkg.join("snippets"), &mut snippets);
    for path in snippets {
        if path.extension().and_then(|e| e.to_str()) == Some("js") {
            let rel = path.strip_prefix(dist).map_err(|e| e.to_string())?;
            add(rel.to_string_lossy().into_owned(), true)?;
        }
    }
    // Chunks: on demand.
    for chunk in crate::split::chunks(&pkg) {
        let stem = chunk.trim_end_matches(".wasm");
        if let Some(hashed) = names.iter().find(|n| {
            n.starts_with(&format!("{stem}.")) && n.ends_with(".wasm") && n.len() > chunk.len()
        }) {
            add(format!("pkg/{hashed}"), false)?;
        }
    }
    // The rule and key docs, fetched by the first hover (named in `index.html`).
    if let Some(docs) = html
        .split(['"', '\''])
        .map(|q| q.trim_start_matches('/'))
        .find(|n| n.starts_with("docs.") && n.ends_with(".json") && dist.join(n).is_file())
    {
        add(docs.to_owned(), false)?;
    }
    Ok(out)
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let mut max_kb: Option<u64> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--max-kb" => {
                let v = it.next().ok_or("--max-kb needs a number")?;
                max_kb = Some(
                    v.parse()
                        .map_err(|_| format!("--max-kb: not a number: {v}"))?,
                );
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    let entries = report(&crate::root().join("dist"))?;
    let (total, lazy) = totals(&entries);
    for e in &entries {
        println!(
            "{:>9.1} KB gz {:>9.1} KB raw  {}{}",
            e.gzip as f64 / 1024.0,
            e.raw as f64 / 1024.0,
            e.name,
            if e.first_load { "" } else { "  (on demand)" }
        );
    }
    println!(
        "first load, app wasm + JS (Monaco apart): {:.1} KB gzipped; on demand: {:.1} KB",
        total as f64 / 1024.0,
        lazy as f64 / 1024.0
    );
    if let Some(max) = max_kb {
        within(total, max)?;
        println!("within the {max} KB budget");
    }
    Ok(())
}

/// Gzipped bytes of the first load and of what loads on demand.
pub(crate) fn totals(entries: &[Entry]) -> (u64, u64) {
    entries.iter().fold((0, 0), |(first, lazy), e| {
        if e.first_load {
            (first + e.gzip, lazy)
        } else {
            (first, lazy + e.gzip)
        }
    })
}

/// An error when `total` bytes are over `max_kb` KB.
pub(crate) fn within(total: u64, max_kb: u64) -> Result<()> {
    if total > max_kb * 1024 {
        return Err(format!(
            "the app's wasm + JS is {:.1} KB gzipped, over the {max_kb} KB budget",
            total as f64 / 1024.0
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `dist/` with a page naming a glue, a module and dagre, a split link
    /// file and one chunk (listed in `.split-chunks`, served hashed).
    fn fake_dist() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-size-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("pkg/snippets/s")).unwrap();
        fs::write(
            dir.join("index.html"),
            "<script src=\"/dagre.min.0123456789abcdef.js\"></script><script src=\"/vs-0.57.0/loader.js\"></script>\
             <script>window.__specstudioPkg = { docs: '/docs.0123456789abcdef.json' };</script>\
             <script type=module>import init from '/pkg/app.0123456789abcdef.js'; init({ module_or_path: '/pkg/app_bg.0123456789abcdef.wasm' })</script>",
        )
        .unwrap();
        fs::write(dir.join("dagre.min.0123456789abcdef.js"), "x".repeat(5000)).unwrap();
        fs::write(dir.join("docs.0123456789abcdef.json"), "{}").unwrap();
        fs::write(dir.join("pkg/app.0123456789abcdef.js"), "glue").unwrap();
        fs::write(
            dir.join("pkg/app_bg.0123456789abcdef.wasm"),
            vec![7u8; 3000],
        )
        .unwrap();
        fs::write(dir.join("pkg/__wasm_split.0123456789abcdef.js"), "link").unwrap();
        fs::write(dir.join("pkg/snippets/s/inline0.js"), "snippet").unwrap();
        fs::write(dir.join("pkg/.split-chunks"), "split_drawer_1.wasm").unwrap();
        fs::write(
            dir.join("pkg/split_drawer_1.0123456789abcdef.wasm"),
            vec![1u8; 9000],
        )
        .unwrap();
        dir
    }

    #[test]
    fn counts_what_the_page_loads_and_lists_chunks_apart() {
        let dist = fake_dist();
        let entries = report(&dist).unwrap();
        let first: Vec<&str> = entries
            .iter()
            .filter(|e| e.first_load)
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            first,
            [
                "dagre.min.0123456789abcdef.js",
                "pkg/app.0123456789abcdef.js",
                "pkg/app_bg.0123456789abcdef.wasm",
                "pkg/__wasm_split.0123456789abcdef.js",
                "pkg/snippets/s/inline0.js"
            ]
        );
        let lazy: Vec<&str> = entries
            .iter()
            .filter(|e| !e.first_load)
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            lazy,
            [
                "pkg/split_drawer_1.0123456789abcdef.wasm",
                "docs.0123456789abcdef.json"
            ]
        );
        let (total, on_demand) = totals(&entries);
        assert_eq!(
            total,
            entries
                .iter()
                .filter(|e| e.first_load)
                .map(|e| e.gzip)
                .sum::<u64>()
        );
        assert!(on_demand > 0 && total > 0);
        let _ = fs::remove_dir_all(&dist);
    }

    #[test]
    fn fails_over_the_budget() {
        assert!(within(450 * 1024, 450).is_ok());
        let err = within(450 * 1024 + 1, 450).unwrap_err();
        assert!(err.contains("over the 450 KB budget"), "{err}");
    }
}
