//! Build tasks for specstudio.
//!
//! `cargo run -p xtask -- build-ui [--dev] [--no-opt]` builds the browser editor into `dist/`:
//!
//! 1. `npm ci` when `node_modules/` is missing or older than `package-lock.json`
//!    (Monaco, dagre, binaryen's `wasm-opt`, playwright-core; all pinned);
//! 2. `cargo build -p specstudio-frontend --features app --target wasm32-unknown-unknown
//!    --profile wasm-release` with `--cfg=erase_components` (incremental, like any cargo build);
//! 3. split the module at the Leptos `#[lazy]` functions ([`split`]: the deploy
//!    drawer, the share dialog and the header dialogs load on first use), then
//!    wasm-bindgen through the `wasm-bindgen-cli-support` library (same version
//!    as the `wasm-bindgen` in Cargo.lock: no separate CLI to install);
//! 4. `wasm-opt -Oz --converge` from npm `binaryen` on the main module and each chunk
//!    (Debian's wasm-opt 108 breaks the module), npm `terser` on the JS glue;
//! 5. copy `index.html`, `frontend/static/*`, Monaco's `min/vs` (into `vs-<version>/`) and dagre
//!    into `dist/`;
//! 6. content-hashed copies of the app's files (`pkg/specstudio_frontend.<hash>.js`, …) that
//!    `dist/index.html` names, so the server can mark them `immutable`;
//! 7. `.br` and `.gz` next to every compressible file, served when the client accepts them.
//!
//! `cargo run -p xtask -- size [--max-kb N]` prints the gzipped size of the
//! app's wasm + JS that the first load fetches and fails over N KB ([`size`]).
//!
//! `cargo run -p xtask -- check-imports [DIR]` fails when the modules of
//! `frontend/src` (or DIR) import each other in a circle (see [`imports`]).
//!
//! Every step is skipped when its output is up to date (npm and assets by
//! mtime, wasm-bindgen + wasm-opt by the content hash of cargo's module), so a
//! warm run with nothing changed takes about 0.3 s.

mod imports;
mod size;
mod split;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Instant, SystemTime};

pub(crate) type Result<T> = std::result::Result<T, String>;

const TARGET: &str = "wasm32-unknown-unknown";
const CRATE: &str = "specstudio-frontend";
pub(crate) const WASM_NAME: &str = "specstudio_frontend";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build-ui") => build_ui(&args[1..]),
        Some("ui-stale") => ui_stale().map(|stale| {
            println!("{}", if stale { "stale" } else { "fresh" });
        }),
        Some("size") => size::run(&args[1..]),
        Some("check-imports") => {
            let src = args
                .get(1)
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("frontend/src"));
            imports::check(&src).map(|summary| println!("{summary}"))
        }
        _ => {
            eprintln!(
                "usage: cargo run -p xtask -- build-ui [--dev] [--no-opt]\n       \
                 cargo run -p xtask -- ui-stale   (prints `stale` or `fresh`)\n       \
                 cargo run -p xtask -- size [--max-kb N]   (the app's gzipped wasm + JS; fails over N KB)\n       \
                 cargo run -p xtask -- check-imports [DIR]   (fails on an import circle)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace this run is for. `cargo run` sets `CARGO_MANIFEST_DIR` at run
/// time; the compile-time value is only a fallback, because a build cache
/// shared between clones (CI's `CARGO_TARGET_DIR`) may hold a binary compiled
/// in another checkout, and the UI must be built from and into this one.
pub(crate) fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

struct Options {
    dev: bool,
    opt: bool,
}

fn build_ui(args: &[String]) -> Result<()> {
    let mut options = Options {
        dev: false,
        opt: true,
    };
    for arg in args {
        match arg.as_str() {
            "--dev" => options.dev = true,
            "--no-opt" => options.opt = false,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    let started = Instant::now();
    let root = root();
    let dist = root.join("dist");
    fs::create_dir_all(dist.join("pkg")).map_err(|e| format!("creating dist/: {e}"))?;

    step("npm", || npm_ci(&root))?;
    let wasm = step("cargo (wasm32)", || cargo_build(&root, &options))?;
    let pkg = dist.join("pkg");
    let bindgen_out = pkg.join(format!("{WASM_NAME}_bg.wasm"));
    // Which build `dist/pkg` holds (a --dev build must not pass for a release one).
    let source_stamp = pkg.join(".source");
    // By content, not mtime: a rebuild that yields the same module (say after
    // a feature-less build of the crate replaced the artifact) skips wasm-opt.
    let source = format!(
        "{} {:016x} opt={}{}\n",
        wasm.display(),
        content_hash(&wasm)?,
        options.opt && !options.dev,
        OPT_PASSES.join(" ")
    );
    let current = fs::read_to_string(&source_stamp).unwrap_or_default();
    if current != source || !bindgen_out.exists() || !pkg.join(format!("{WASM_NAME}.js")).exists() {
        let _ = fs::remove_file(&source_stamp);
        let split_main = target_dir(&root)
            .join("wasm-split")
            .join(format!("{WASM_NAME}.wasm"));
        fs::create_dir_all(split_main.parent().unwrap_or(&pkg)).map_err(|e| e.to_string())?;
        // A new file, not a rewrite in place: a target dir seeded with hard
        // links shares this file's inode with other checkouts' builds.
        let _ = fs::remove_file(&split_main);
        let chunks = step("wasm-split", || split::split(&wasm, &pkg, &split_main))?;
        step("wasm-bindgen", || bindgen(&split_main, &pkg))?;
        if options.opt && !options.dev {
            step("wasm-opt -Oz --converge", || {
                wasm_opt(&root, &bindgen_out)?;
                chunks.iter().try_for_each(|c| wasm_opt(&root, c))
            })?;
            step("terser (the glue, the split's link file, snippets)", || {
                minify_js(&root, &pkg)
            })?;
        }
        fs::write(&source_stamp, source).map_err(|e| e.to_string())?;
    } else {
        println!("  wasm-bindgen: up to date");
    }
    step("assets", || copy_assets(&root, &dist))?;
    step("docs.json", || write_docs(&dist))?;
    step("hashed names", || hash_names(&root, &dist))?;
    step("precompress (br, gz)", || precompress(&dist))?;
    fs::write(dist.join(".stamp"), format!("{:?}\n", SystemTime::now()))
        .map_err(|e| e.to_string())?;
    let gz = gzip_size(&bindgen_out)?;
    println!(
        "dist/ ready in {:.1}s ({} wasm: {} KB, {} KB gzipped)",
        started.elapsed().as_secs_f64(),
        if options.dev { "dev" } else { "release" },
        fs::metadata(&bindgen_out)
            .map(|m| m.len() / 1024)
            .unwrap_or(0),
        gz / 1024
    );
    Ok(())
}

fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let out = f().map_err(|e| format!("{name}: {e}"))?;
    println!("  {name}: {:.1}s", started.elapsed().as_secs_f64());
    Ok(out)
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// wasm-opt's passes: for size, repeated while the module still shrinks
/// (`--converge`: ≈ 2 KB gzipped of the main module, seconds per module).
const OPT_PASSES: [&str; 2] = ["-Oz", "--converge"];

/// Whether `input` is newer than `output` (or `output` is missing).
fn is_newer(input: &Path, output: &Path) -> bool {
    match (mtime(input), mtime(output)) {
        (Some(i), Some(o)) => i > o,
        _ => true,
    }
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| format!("running {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed with {status}", command.get_program()))
    }
}

fn npm_ci(root: &Path) -> Result<()> {
    let modules = root.join("node_modules");
    let stamp = modules.join(".package-lock.json");
    let needed = !modules.join("monaco-editor/min/vs/loader.js").exists()
        || !modules.join("binaryen/bin/wasm-opt").exists()
        || !modules.join("monaco-vim/dist/monaco-vim.umd.js").exists()
        || !modules.join("terser/bin/terser").exists()
        || is_newer(&root.join("package-lock.json"), &stamp);
    if !needed {
        return Ok(());
    }
    println!("  npm ci (Monaco, dagre, binaryen, terser, playwright-core)…");
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
        .current_dir(root))
}

fn cargo_build(root: &Path, options: &Options) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let profile = if options.dev { "dev" } else { "wasm-release" };
    run(Command::new(cargo)
        .args([
            "build",
            "-p",
            CRATE,
            "--lib",
            "--features",
            "app",
            "--target",
            TARGET,
        ])
        .args(["--profile", profile])
        // Size over speed everywhere, the spec core included (it was at
        // `opt-level=2`: +57 KB gzipped; documents past 64 KB lint in the worker,
        // so its speed no longer blocks typing). Leptos's `erase_components`
        // type-erases each component's view (`AnyView`), so nested views are not
        // monomorphised into one huge type per component: −41 KB gzipped.
        // `--emit-relocs`: what `wasm-split` needs to move code into chunks.
        .args([
            "--config",
            r#"target.wasm32-unknown-unknown.rustflags=["--cfg=erase_components", "-Clink-args=--emit-relocs"]"#,
        ])
        .current_dir(root))?;
    let dir = if options.dev { "debug" } else { profile };
    let wasm = target_dir(root)
        .join(TARGET)
        .join(dir)
        .join(format!("{WASM_NAME}.wasm"));
    if !wasm.exists() {
        return Err(format!("{} was not produced", wasm.display()));
    }
    Ok(wasm)
}

fn bindgen(wasm: &Path, out: &Path) -> Result<()> {
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .out_name(WASM_NAME)
        .web(true)
        .map_err(|e| e.to_string())?
        .typescript(false)
        // The split chunks import the main module's linker exports.
        .keep_lld_exports(true)
        .generate(out)
        .map_err(|e| format!("{e:#}"))
}

fn wasm_opt(root: &Path, wasm: &Path) -> Result<()> {
    let exe = root.join("node_modules/binaryen/bin/wasm-opt");
    if !exe.exists() {
        return Err("node_modules/binaryen/bin/wasm-opt is missing: run `npm ci` (never use Debian's wasm-opt 108: it breaks the module)".into());
    }
    let tmp = wasm.with_extension("opt.wasm");
    run(Command::new(exe)
        .args(OPT_PASSES)
        .args([
            "--enable-bulk-memory",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-reference-types",
            "--enable-multivalue",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(&tmp))?;
    fs::rename(&tmp, wasm).map_err(|e| e.to_string())
}

/// Minify the JavaScript wasm-bindgen and the split write (npm `terser`,
/// pinned): the glue is 64 KB of readable code, −2.5 KB gzipped once
/// minified. Exported names, string literals and their quotes stay as they
/// are (the hashing step rewrites the module specifiers).
fn minify_js(root: &Path, pkg: &Path) -> Result<()> {
    let terser = root.join("node_modules/terser/bin/terser");
    if !terser.exists() {
        return Err("node_modules/terser is missing: run `npm ci`".into());
    }
    let mut files = vec![pkg.join(format!("{WASM_NAME}.js")), pkg.join(split::LINK)];
    walk(&pkg.join("snippets"), &mut files);
    for file in files
        .iter()
        .filter(|f| f.extension() == Some(OsStr::new("js")))
    {
        let tmp = file.with_extension("min.js");
        run(Command::new("node")
            .arg(&terser)
            .arg(file)
            .args(["--module", "--compress", "--mangle"])
            .args(["--format", "quote_style=3"])
            .arg("-o")
            .arg(&tmp))?;
        fs::rename(&tmp, file).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

/// The page's own scripts in `frontend/static/` that load with the page:
/// minified like the glue (comments and long names are most of them).
const MINIFIED_STATIC: [&str; 2] = ["lint-worker.js", "graph-layout.js"];

/// `src` minified into `out` (a classic script: top-level names kept).
fn minify_script(root: &Path, src: &Path, out: &Path) -> Result<()> {
    let terser = root.join("node_modules/terser/bin/terser");
    run(Command::new("node")
        .arg(&terser)
        .arg(src)
        .args(["--compress", "--mangle"])
        .args(["--format", "quote_style=3"])
        .arg("-o")
        .arg(out))
}

fn copy_assets(root: &Path, dist: &Path) -> Result<()> {
    let static_dir = root.join("frontend/static");
    for entry in fs::read_dir(&static_dir).map_err(|e| format!("{}: {e}", static_dir.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        if !entry.path().is_file() {
            continue;
        }
        let out = dist.join(entry.file_name());
        if MINIFIED_STATIC.iter().any(|n| entry.file_name() == *n) {
            minify_script(root, &entry.path(), &out)?;
        } else {
            copy_if_newer(&entry.path(), &out)?;
        }
    }
    copy_if_newer(
        &root.join("node_modules/@dagrejs/dagre/dist/dagre.min.js"),
        &dist.join("dagre.min.js"),
    )?;
    // Vim mode, loaded on demand (the name carries the pinned version).
    copy_if_newer(
        &root.join("node_modules/monaco-vim/dist/monaco-vim.umd.js"),
        &dist.join("monaco-vim-0.4.4.js"),
    )?;
    // Monaco: 25 MB of files; copied once per installed version into a
    // directory named after it (its URLs never change content: immutable).
    let vs = root.join("node_modules/monaco-editor/min/vs");
    let version_file = root.join("node_modules/monaco-editor/package.json");
    let dir = dist.join(monaco_dir(root)?);
    let stamp = dir.join(".copied-from");
    let version = fs::read_to_string(&version_file).map_err(|e| e.to_string())?;
    if fs::read_to_string(&stamp).ok().as_deref() != Some(version.as_str()) {
        let _ = fs::remove_dir_all(&dir);
        copy_dir(&vs, &dir)?;
        fs::write(&stamp, version).map_err(|e| e.to_string())?;
    }
    // The unversioned copy of earlier builds.
    let _ = fs::remove_dir_all(dist.join("vs"));
    Ok(())
}

/// `dist/docs.json`: the rule and key docs the page's build leaves out
/// (`shared` without `docs`); the page fetches it on its first hover.
fn write_docs(dist: &Path) -> Result<()> {
    let path = dist.join("docs.json");
    let json = shared::docs::table_json();
    if fs::read_to_string(&path).ok().as_deref() != Some(json.as_str()) {
        fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// `vs-<monaco version>`: where Monaco's `min/vs` is served from.
fn monaco_dir(root: &Path) -> Result<String> {
    let text = fs::read_to_string(root.join("node_modules/monaco-editor/package.json"))
        .map_err(|e| format!("monaco-editor/package.json: {e}"))?;
    let version = text
        .split("\"version\"")
        .nth(1)
        .and_then(|rest| rest.split('"').nth(1))
        .filter(|v| {
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
        .ok_or("no version in monaco-editor/package.json")?;
    Ok(format!("vs-{version}"))
}

/// The app's own files, by the name `index.html` uses → content-hashed copies.
/// (The glue and the split's files: [`split::hash_names`].)
const HASHED: &[&str] = &[
    "pkg/specstudio_frontend_bg.wasm",
    "docs.json",
    "style.css",
    "dagre.min.js",
    "graph-layout.js",
];

/// `name.ext` → `name.<hash>.ext`
pub(crate) fn hashed_name(path: &str, hash: u64) -> String {
    match path.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash:016x}.{ext}"),
        None => format!("{path}.{hash:016x}"),
    }
}

/// Write content-hashed copies of the app's files and a `dist/index.html`
/// that names them (and the versioned Monaco directory).
fn hash_names(root: &Path, dist: &Path) -> Result<()> {
    let mut html = fs::read_to_string(root.join("index.html")).map_err(|e| e.to_string())?;
    let glue = split::hash_names(dist)?;
    html = html.replace(&format!("/pkg/{WASM_NAME}.js"), &format!("/{glue}"));
    for name in HASHED {
        let file = dist.join(name);
        let hash = content_hash(&file)?;
        let hashed = hashed_name(name, hash);
        let target = dist.join(&hashed);
        if !target.exists() {
            // Older hashed copies of the same file go.
            let (dir, base) = (target.parent().unwrap_or(dist), Path::new(name));
            let stem = base.file_stem().and_then(OsStr::to_str).unwrap_or_default();
            let ext = base.extension().and_then(OsStr::to_str).unwrap_or_default();
            for entry in fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
                let n = entry.file_name().to_string_lossy().into_owned();
                let n = n.trim_end_matches(".br").trim_end_matches(".gz");
                if n != base.file_name().and_then(OsStr::to_str).unwrap_or_default()
                    && n.starts_with(&format!("{stem}."))
                    && n.ends_with(&format!(".{ext}"))
                    && n.len() == stem.len() + ext.len() + 18
                {
                    let _ = fs::remove_file(entry.path());
                }
            }
            fs::copy(&file, &target).map_err(|e| format!("{hashed}: {e}"))?;
        }
        html = html.replace(&format!("/{name}"), &format!("/{hashed}"));
    }
    let vs = monaco_dir(root)?;
    html = html
        .replace("'/vs'", &format!("'/{vs}'"))
        .replace("\"/vs/", &format!("\"/{vs}/"));
    let out = dist.join("index.html");
    if fs::read_to_string(&out).ok().as_deref() != Some(html.as_str()) {
        fs::write(&out, html).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn compressible(path: &Path) -> bool {
    matches!(
        path.extension().and_then(OsStr::to_str),
        Some("js" | "css" | "html" | "wasm" | "svg" | "json" | "ttf" | "txt" | "mjs")
    )
}

/// `.br` and `.gz` beside every compressible file of 1 KB or more (redone
/// only when the file is newer than them).
fn precompress(dist: &Path) -> Result<()> {
    let mut files = Vec::new();
    walk(dist, &mut files);
    let (mut done, mut raw, mut br_total) = (0, 0u64, 0u64);
    for file in files {
        let name = file.to_string_lossy();
        let br = PathBuf::from(format!("{name}.br"));
        let gz = PathBuf::from(format!("{name}.gz"));
        if let Some(source) = name
            .strip_suffix(".br")
            .or_else(|| name.strip_suffix(".gz"))
        {
            // An orphan (its file is gone) would be served for a missing file.
            if !Path::new(source).exists() {
                let _ = fs::remove_file(&file);
            }
            continue;
        }
        let len = fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        if !compressible(&file) || len < 1024 {
            // A file that shrank below the threshold must not keep stale siblings.
            let _ = fs::remove_file(&br);
            let _ = fs::remove_file(&gz);
            continue;
        }
        if !is_newer(&file, &br) && !is_newer(&file, &gz) {
            continue;
        }
        let bytes = fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        // Quality 11 for what a page loads; big files (workers for languages
        // the editor never opens) get a quicker setting.
        let quality = if bytes.len() > 2 << 20 { 5 } else { 11 };
        let mut out = Vec::with_capacity(bytes.len() / 3);
        let params = brotli::enc::BrotliEncoderParams {
            quality,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
            .map_err(|e| format!("brotli {}: {e}", file.display()))?;
        write_atomic(&br, &out)?;
        br_total += out.len() as u64;
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&bytes).map_err(|e| e.to_string())?;
        write_atomic(&gz, &enc.finish().map_err(|e| e.to_string())?)?;
        done += 1;
        raw += len;
    }
    if done > 0 {
        println!(
            "    {done} file(s): {} KB → {} KB brotli",
            raw / 1024,
            br_total / 1024
        );
    }
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| e.to_string())
}

pub(crate) fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn copy_if_newer(from: &Path, to: &Path) -> Result<()> {
    if is_newer(from, to) {
        fs::copy(from, to).map_err(|e| format!("copying {}: {e}", from.display()))?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &dest)?;
        } else if path.extension() != Some(OsStr::new("map")) {
            fs::copy(&path, &dest).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Whether `dist/` is missing or older than any frontend/shared source.
fn ui_stale() -> Result<bool> {
    let root = root();
    let Some(built) = mtime(&root.join("dist/.stamp")) else {
        return Ok(true);
    };
    let mut newest = SystemTime::UNIX_EPOCH;
    for dir in ["frontend", "shared/src", "examples"] {
        newest_in(&root.join(dir), &mut newest);
    }
    for file in ["index.html", "package-lock.json", "Cargo.lock"] {
        if let Some(t) = mtime(&root.join(file)) {
            newest = newest.max(t);
        }
    }
    Ok(newest > built)
}

fn newest_in(dir: &Path, newest: &mut SystemTime) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            newest_in(&path, newest);
        } else if let Some(t) = mtime(&path) {
            *newest = (*newest).max(t);
        }
    }
}

pub(crate) fn content_hash(path: &Path) -> Result<u64> {
    use std::hash::Hasher;
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // `DefaultHasher::new()` has fixed keys: stable across runs of one toolchain.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    hasher.write(&bytes);
    Ok(hasher.finish())
}

/// Gzipped size (for the build summary), through the system `gzip`.
fn gzip_size(path: &Path) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    Ok(out.stdout.len() as u64)
}
