//! The gateway's dependency rules (docs/ARCHITECTURE.md), checked on the
//! sources. Every `crate::…`, `$crate::…` and `super::…` path in
//! `gateway/src` is resolved to the top-level module it names (comments and
//! string literals are skipped), and then:
//!
//! 1. each top-level module sits in a layer and names only modules of lower
//!    layers, so the module graph has no cycle;
//! 2. the explicit rules hold (e.g. `store` never names `http`);
//! 3. `http` reaches the pipeline only through its public face
//!    (`crate::pipeline::Name`, never `crate::pipeline::stage_module::…`);
//! 4. `actix_web` appears only under `http/`, in `startup.rs` and `main.rs`.
//!
//! The checker also runs on small made-up trees, so it is shown to fail when
//! a forbidden `use` comes back.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Layers, lowest first. A module may name modules of strictly lower layers.
const LAYERS: &[&[&str]] = &[
    &["domain", "parse", "time"],
    &["metrics", "telemetry"],
    &["redis_link"],
    &["store"],
    &["jobs", "ingest", "extraction"],
    &["pipeline", "documents"],
    &["semantic"],
    &["search"],
    &["app"],
    &["http", "config"],
    &["startup", "document_cli"],
];

/// The rules of issue #12, word for word: `module` never names any of these.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("domain", &["*"]),
    ("parse", &["*"]),
    ("store", &["http", "ingest", "pipeline", "extraction", "startup", "config"]),
    ("ingest", &["http", "startup", "pipeline", "extraction", "config"]),
    ("jobs", &["pipeline", "http", "startup", "extraction", "ingest", "config"]),
    ("extraction", &["http", "startup", "pipeline", "ingest", "config"]),
    ("pipeline", &["http", "startup", "config", "ingest", "extraction"]),
    ("app", &["http", "startup", "config"]),
    ("semantic", &["http", "startup", "config", "app", "ingest", "extraction"]),
    ("documents", &["http", "startup", "config", "app", "ingest", "extraction", "pipeline", "search", "semantic"]),
];

/// Where `actix_web` may appear (paths relative to `src`).
fn may_use_actix(file: &str) -> bool {
    file.starts_with("http/") || file == "startup.rs" || file == "main.rs"
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Reference {
    file: String,
    line: usize,
    /// Absolute path from the crate root, at most two segments.
    path: Vec<String>,
}

#[derive(Debug, Default)]
struct Scan {
    references: Vec<Reference>,
    actix: Vec<(String, usize)>,
}

/// Code with comments and the contents of string and char literals blanked
/// (newlines kept, so line numbers stay right).
fn strip(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if (c == 'r' || (c == 'b' && next == Some('r'))) && is_raw_string_start(&chars, i) {
            let start = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = chars[start..].iter().take_while(|c| **c == '#').count();
            let mut j = start + hashes + 1;
            while j < chars.len() && !(chars[j] == '"' && chars[j + 1..].iter().take(hashes).filter(|c| **c == '#').count() == hashes) {
                j += 1;
            }
            let end = (j + 1 + hashes).min(chars.len());
            out.extend(chars[i..end].iter().map(|c| blank(*c)));
            i = end;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A char literal ('a', '\n', '\u{1F600}'); anything else is a lifetime.
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_raw_string_start(chars: &[char], i: usize) -> bool {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return false;
    }
    let start = if chars[i] == 'b' { i + 2 } else { i + 1 };
    let hashes = chars[start..].iter().take_while(|c| **c == '#').count();
    chars.get(start + hashes) == Some(&'"')
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Colons,
    Open,
    Close,
    Comma,
    Other,
}

fn tokens(code: &str) -> Vec<(Token, usize)> {
    let mut out = Vec::new();
    let mut line = 1;
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Token::Ident(chars[start..i].iter().collect()), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push((Token::Colons, line));
            i += 2;
        } else {
            out.push((
                match c {
                    '{' => Token::Open,
                    '}' => Token::Close,
                    ',' => Token::Comma,
                    _ => Token::Other,
                },
                line,
            ));
            i += 1;
        }
    }
    out
}

/// The paths of a use tree starting at `tokens[at]`, each at most two
/// segments, appended to `prefix`; returns where the tree ends.
fn use_tree(tokens: &[(Token, usize)], mut at: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix.to_vec();
    loop {
        match tokens.get(at).map(|t| &t.0) {
            Some(Token::Ident(name)) if name != "self" || path.is_empty() => {
                path.push(name.clone());
                at += 1;
                if tokens.get(at).map(|t| &t.0) == Some(&Token::Colons) {
                    at += 1;
                    continue;
                }
                out.push(path);
                return at;
            }
            Some(Token::Ident(_)) => {
                // `self` inside a group: the prefix itself.
                out.push(path);
                return at + 1;
            }
            Some(Token::Open) => {
                at += 1;
                loop {
                    match tokens.get(at).map(|t| &t.0) {
                        Some(Token::Close) => return at + 1,
                        Some(Token::Comma) => at += 1,
                        None => return at,
                        _ => {
                            let before = at;
                            at = use_tree(tokens, at, &path, out);
                            // Skip `as name` and anything else up to the next item.
                            while !matches!(tokens.get(at).map(|t| &t.0), Some(Token::Comma | Token::Close) | None) {
                                at += 1;
                            }
                            if at == before {
                                at += 1;
                            }
                        }
                    }
                }
            }
            _ => {
                out.push(path);
                return at;
            }
        }
    }
}

/// The module path of a source file (`ingest/mod.rs` → `["ingest"]`).
fn module_of(file: &str) -> Vec<String> {
    let without = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = without.split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn scan_file(file: &str, source: &str, scan: &mut Scan) {
    let code = strip(source);
    let tokens = tokens(&code);
    let base = module_of(file);
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let (token, line) = (&tokens[i].0, tokens[i].1);
        match token {
            Token::Open => depth += 1,
            Token::Close => {
                depth = depth.saturating_sub(1);
                while inline.last().is_some_and(|(_, d)| *d > depth) {
                    inline.pop();
                }
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some((Token::Ident(name), _)), Some((Token::Open, _))) = (tokens.get(i + 1), tokens.get(i + 2)) {
                    inline.push((name.clone(), depth + 1));
                }
            }
            Token::Ident(word) if word == "actix_web" => scan.actix.push((file.to_owned(), line)),
            Token::Ident(word) if (word == "crate" || word == "super") && tokens.get(i + 1).map(|t| &t.0) == Some(&Token::Colons) => {
                let previous_is_colons = i > 0 && tokens[i - 1].0 == Token::Colons;
                if previous_is_colons {
                    i += 1;
                    continue;
                }
                let mut prefix: Vec<String> = Vec::new();
                let mut at = i + 2;
                if word == "super" {
                    let mut module: Vec<String> = base.iter().cloned().chain(inline.iter().map(|(n, _)| n.clone())).collect();
                    module.pop();
                    while let (Some((Token::Ident(w), _)), Some((Token::Colons, _))) = (tokens.get(at), tokens.get(at + 1)) {
                        if w != "super" {
                            break;
                        }
                        module.pop();
                        at += 2;
                    }
                    prefix = module;
                }
                let mut paths = Vec::new();
                let end = use_tree(&tokens, at, &prefix, &mut paths);
                for mut path in paths {
                    path.truncate(2);
                    if !path.is_empty() {
                        scan.references.push(Reference { file: file.to_owned(), line, path });
                    }
                }
                i = end.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

fn scan_tree(root: &Path) -> Scan {
    let mut scan = Scan::default();
    let mut stack = vec![root.to_path_buf()];
    let mut files: Vec<PathBuf> = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in files {
        let relative = path.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/");
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        scan_file(&relative, &source, &mut scan);
    }
    scan
}

/// Every broken rule, as one line each.
fn violations(root: &Path) -> Vec<String> {
    let scan = scan_tree(root);
    let layer_of: BTreeMap<&str, usize> =
        LAYERS.iter().enumerate().flat_map(|(layer, modules)| modules.iter().map(move |m| (*m, layer))).collect();
    let mut problems = BTreeSet::new();
    let top_level: BTreeSet<String> = std::fs::read_dir(root)
        .expect("src")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|name| name != "lib" && name != "main")
        .collect();
    for module in &top_level {
        if !layer_of.contains_key(module.as_str()) {
            problems.insert(format!("src/{module}: a new top-level module: put it in a layer (tests/architecture.rs LAYERS and docs/ARCHITECTURE.md)"));
        }
    }
    for reference in &scan.references {
        let from = module_of(&reference.file);
        let (Some(source), Some(target)) = (from.first(), reference.path.first()) else { continue };
        if source == target || !top_level.contains(target) || reference.file == "main.rs" {
            continue;
        }
        let at = format!("src/{}:{}: {source} names crate::{}", reference.file, reference.line, reference.path.join("::"));
        if let (Some(from_layer), Some(to_layer)) = (layer_of.get(source.as_str()), layer_of.get(target.as_str()))
            && to_layer >= from_layer
        {
            problems.insert(format!("{at}: {source} (layer {from_layer}) may only name modules of lower layers, {target} is layer {to_layer}"));
        }
        for (module, forbidden) in FORBIDDEN {
            if source == module && (forbidden.contains(&"*") || forbidden.contains(&target.as_str())) {
                problems.insert(format!("{at}: {module} never names {}", forbidden.join(", ")));
            }
        }
        if source == "http"
            && target == "pipeline"
            && let Some(second) = reference.path.get(1)
            && (root.join("pipeline").join(second).is_dir() || root.join("pipeline").join(format!("{second}.rs")).is_file())
        {
            problems.insert(format!("{at}: http uses the pipeline's public face (crate::pipeline::Name), not its module {second}"));
        }
    }
    for (file, line) in &scan.actix {
        if !may_use_actix(file) {
            problems.insert(format!("src/{file}:{line}: actix_web outside http/, startup.rs and main.rs"));
        }
    }
    problems.into_iter().collect()
}

/// Which top-level modules each module names (for the note and the docs).
fn module_graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let scan = scan_tree(root);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for reference in scan.references {
        let from = module_of(&reference.file);
        if let (Some(source), Some(target)) = (from.first(), reference.path.first())
            && source != target
            && reference.file != "main.rs"
            && LAYERS.iter().any(|layer| layer.contains(&target.as_str()))
        {
            graph.entry(source.clone()).or_default().insert(target.clone());
        }
    }
    graph
}

#[test]
fn the_gateway_follows_its_dependency_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = violations(&root);
    assert!(problems.is_empty(), "dependency rules broken (docs/ARCHITECTURE.md):\n{}", problems.join("\n"));
    // Printed with --nocapture: the module graph the rules allow.
    for (module, names) in module_graph(&root) {
        println!("{module} -> {}", names.into_iter().collect::<Vec<_>>().join(", "));
    }
}

/// A made-up source tree for the checker's own tests.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, source) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, source).expect("write");
    }
    dir
}

const CLEAN: &[(&str, &str)] = &[
    ("lib.rs", "pub mod domain; pub mod store; pub mod http; pub mod pipeline;"),
    ("domain/mod.rs", "pub struct Batch;"),
    ("store/mod.rs", "use crate::domain::Batch; // crate::http in a comment\nfn f() -> &'static str { \"crate::http::x\" }"),
    ("pipeline/mod.rs", "pub mod scout; pub use scout::Catalog;"),
    ("pipeline/scout.rs", "pub struct Catalog;"),
    ("http/mod.rs", "use actix_web::web;\nuse crate::{store, pipeline::Catalog};"),
];

fn with(extra: (&'static str, &'static str)) -> Vec<(&'static str, &'static str)> {
    let mut files: Vec<(&str, &str)> = CLEAN.iter().copied().filter(|(p, _)| *p != extra.0).collect();
    files.push(extra);
    files
}

#[test]
fn a_clean_tree_passes_and_comments_and_strings_do_not_count() {
    let dir = tree(CLEAN);
    assert_eq!(violations(dir.path()), Vec::<String>::new());
}

#[test]
fn a_forbidden_use_fails_whichever_way_it_is_written() {
    let cases = [
        ("store/mod.rs", "use crate::http::errors::ApiError;", "store never names http"),
        ("store/mod.rs", "use crate::{domain::Batch, http::X};", "store never names http"),
        ("store/mod.rs", "mod inner { use super::super::http::X; }", "store never names http"),
        ("store/mod.rs", "fn f() { let _ = crate::pipeline::Catalog; }", "store never names"),
        ("domain/mod.rs", "use crate::store::Thing;", "domain never names *"),
        ("store/mod.rs", "fn f() { actix_web::web::Data::new(1); }", "actix_web outside http/"),
        ("http/mod.rs", "use crate::pipeline::scout::Catalog;", "public face"),
    ];
    for (file, source, expected) in cases {
        let dir = tree(&with((file, source)));
        let problems = violations(dir.path());
        assert!(problems.iter().any(|p| p.contains(expected)), "{source:?} in {file} gave {problems:?}");
    }
}

#[test]
fn a_cycle_or_a_module_without_a_layer_fails() {
    // domain → store is upward even without the explicit rule (store is layer 3).
    let dir = tree(&with(("store/mod.rs", "use crate::http::Page;")));
    assert!(violations(dir.path()).iter().any(|p| p.contains("may only name modules of lower layers")));
    let dir = tree(&with(("receivers/mod.rs", "use crate::store::Thing;")));
    assert!(violations(dir.path()).iter().any(|p| p.contains("src/receivers: a new top-level module")));
}

#[test]
fn char_literals_lifetimes_and_raw_strings_are_told_apart() {
    let code = strip("fn f<'a>(x: &'a str) -> char { let _ = r#\"crate::http\"#; let _ = b'\"'; '{' }");
    assert!(!code.contains("crate::http"), "{code}");
    assert!(code.contains("<'a>") && code.contains("&'a str"), "lifetimes are code: {code}");
    // The body's own brace stays; the '{' char literal and the quoted quote are blanked.
    assert_eq!(code.matches('{').count(), 1, "{code}");
    assert!(!code.contains('"'), "{code}");
}
