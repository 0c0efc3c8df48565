//! Lazily loaded parts of the page: the module cargo builds is split at the
//! Leptos `#[lazy]` functions (the deploy drawer, the share dialog, the header
//! dialogs) by `wasm_split_cli_support`, the library behind `cargo leptos
//! --split`. Each lazy function lands in its own `.wasm` chunk (code several of
//! them share in a `chunk_*.wasm`) that `pkg/__wasm_split.js` fetches on the
//! first call; the main module keeps everything the first paint needs.
//!
//! Every build is split: an unsplit module imports the loaders from a
//! placeholder module no browser can resolve.
//!
//! Names: chunks are content-hashed (`<name>.<hash>.wasm`); the glue and the
//! link file import each other, so both take one hash of the two texts
//! (`specstudio_frontend.<h>.js` ↔ `__wasm_split.<h>.js`) and are served
//! `immutable` like the rest.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{content_hash, hashed_name, Result};

/// The link file the split module imports its loaders from (beside the glue).
pub(crate) const LINK: &str = "__wasm_split.js";
/// Lists the chunk files of the last split (to remove them when they change).
const CHUNKS_LIST: &str = ".split-chunks";

/// Split `wasm` (cargo's module, linked with `--emit-relocs`): the chunks and
/// the link file go to `pkg`, the main module to `main_out`. Returns the chunks.
pub(crate) fn split(wasm: &Path, pkg: &Path, main_out: &Path) -> Result<Vec<PathBuf>> {
    remove_previous(pkg);
    let input = fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let main_module = format!("./{}.js", crate::WASM_NAME);
    let link = format!("./{LINK}");
    let out = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&input);
        opts.output_dir = pkg;
        opts.main_out_path = main_out;
        opts.link_name = &link;
        opts.main_module = &main_module;
        opts
    })
    .map_err(|e| format!("{e:#}"))?;
    let names: Vec<String> = out
        .split_modules
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    fs::write(pkg.join(CHUNKS_LIST), names.join("\n")).map_err(|e| e.to_string())?;
    Ok(out.split_modules)
}

/// The chunk files of the last split and their hashed copies.
fn remove_previous(pkg: &Path) {
    let Ok(list) = fs::read_to_string(pkg.join(CHUNKS_LIST)) else {
        return;
    };
    let stems: Vec<&str> = list
        .lines()
        .filter_map(|n| n.strip_suffix(".wasm"))
        .collect();
    for entry in fs::read_dir(pkg).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if stems
            .iter()
            .any(|s| name.starts_with(&format!("{s}.")) && name.contains(".wasm"))
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The chunk files of the last split, by name.
pub(crate) fn chunks(pkg: &Path) -> Vec<String> {
    fs::read_to_string(pkg.join(CHUNKS_LIST))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Content-hashed copies of the chunks, the link file and the glue (see the
/// module doc). Returns the glue's hashed name (`pkg/…`), for `index.html`.
pub(crate) fn hash_names(dist: &Path) -> Result<String> {
    let pkg = dist.join("pkg");
    let glue_name = format!("{}.js", crate::WASM_NAME);
    let mut link = fs::read_to_string(pkg.join(LINK)).map_err(|e| format!("{LINK}: {e}"))?;
    let mut glue = fs::read_to_string(pkg.join(&glue_name)).map_err(|e| e.to_string())?;
    let mut keep = vec![LINK.to_owned(), glue_name.clone()];
    for chunk in chunks(&pkg) {
        let hashed = hashed_name(&chunk, content_hash(&pkg.join(&chunk))?);
        write_if_changed(
            &pkg.join(&hashed),
            &fs::read(pkg.join(&chunk)).map_err(|e| e.to_string())?,
        )?;
        link = link.replace(&format!("\"./{chunk}\""), &format!("\"./{hashed}\""));
        keep.push(chunk);
        keep.push(hashed);
    }
    // Only the `import … from` lines change: the import object keeps the
    // module name the wasm imports from. (`from"…"` once minified.)
    let from =
        |spaced: bool, name: &str| format!("from{}\"./{name}\"", if spaced { " " } else { "" });
    if ![true, false].iter().any(|&s| glue.contains(&from(s, LINK))) {
        return Err(format!("{glue_name} does not import ./{LINK}"));
    }
    // One hash for the pair, each with the other's name left out.
    let hash = {
        use std::hash::Hasher;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        h.write(glue.as_bytes());
        h.write(link.as_bytes());
        h.finish()
    };
    let (glue_hashed, link_hashed) = (hashed_name(&glue_name, hash), hashed_name(LINK, hash));
    for spaced in [true, false] {
        glue = glue.replace(&from(spaced, LINK), &from(spaced, &link_hashed));
        link = link.replace(&from(spaced, &glue_name), &from(spaced, &glue_hashed));
    }
    write_if_changed(&pkg.join(&glue_hashed), glue.as_bytes())?;
    write_if_changed(&pkg.join(&link_hashed), link.as_bytes())?;
    keep.push(glue_hashed.clone());
    keep.push(link_hashed);
    // Hashed copies of earlier builds go (the unhashed names stay for tools).
    for entry in fs::read_dir(&pkg).map_err(|e| e.to_string())?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let base = name.trim_end_matches(".br").trim_end_matches(".gz");
        let ours = base.starts_with(&format!("{}.", crate::WASM_NAME)) && base.ends_with(".js")
            || base.starts_with("__wasm_split.") && base.ends_with(".js");
        if ours && !keep.iter().any(|k| k == base) {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(format!("pkg/{glue_hashed}"))
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if fs::read(path).ok().as_deref() != Some(bytes) {
        fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
