//! `cargo run -p xtask -- size [--max-kb N]`: the gzipped size (gzip -9) of
//! the app's own wasm + JS that the first load fetches, Monaco apart, from
//! `dist/` as `build-ui` left it; fails when it is over `--max-kb` (KB =
//! 1,024 bytes). The lazily loaded split chunks and vim mode are listed, not
//! counted: a page that never opens the deploy drawer never fetches them.

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
    let (mut total, mut lazy) = (0, 0);
    for e in &entries {
        println!(
            "{:>9.1} KB gz {:>9.1} KB raw  {}{}",
            e.gzip as f64 / 1024.0,
            e.raw as f64 / 1024.0,
            e.name,
            if e.first_load { "" } else { "  (on demand)" }
        );
        if e.first_load {
            total += e.gzip;
        } else {
            lazy += e.gzip;
        }
    }
    println!(
        "first load, app wasm + JS (Monaco apart): {:.1} KB gzipped; on demand: {:.1} KB",
        total as f64 / 1024.0,
        lazy as f64 / 1024.0
    );
    if let Some(max) = max_kb {
        if total > max * 1024 {
            return Err(format!(
                "the app's wasm + JS is {:.1} KB gzipped, over the {max} KB budget",
                total as f64 / 1024.0
            ));
        }
        println!("within the {max} KB budget");
    }
    Ok(())
}
