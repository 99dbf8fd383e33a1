//! No import cycles among the modules of each library crate.
//!
//! Reads every module file of a crate (from `lib.rs`, following `mod`
//! declarations), collects the modules each one names through `crate::`,
//! `self::` and `super::` paths (in `use` items, in code, and in macro
//! arguments), and fails on the first cycle of files, naming it with what
//! each file takes from the next. Test code (`#[cfg(test)]`) is left out:
//! tests may reach anything.
//!
//! An edge goes to the deepest module a path names: `crate::serve::dispatch::Caller`
//! is an edge to `serve/dispatch.rs`, `crate::connection::Connection` one to
//! `connection/mod.rs`. So a `mod.rs` that re-exports its children must not be
//! imported by them (children import their siblings instead).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// The crates whose module graphs must stay acyclic.
const CRATES: &[&str] = &[
    "hub-protocol",
    "hub-core",
    "hub-transport",
    "hub-redis",
    "hub-client",
];

#[test]
fn library_crates_have_no_import_cycle() {
    let root = tests::repo_root();
    for name in CRATES {
        let graph = ModuleGraph::read(&root.join(name).join("src"));
        assert!(
            graph.files.len() > 1 || *name == "hub-redis",
            "{name}: only {} module file found",
            graph.files.len()
        );
        if let Some(cycle) = graph.cycle() {
            panic!("{name}: import cycle: {cycle}");
        }
    }
}

/// The check itself finds cycles: through `use`, through paths in code and
/// macro arguments, and through a `mod.rs` re-exporting a child that imports
/// back; test code does not count.
#[test]
fn cycles_are_found_and_named() {
    let dir = std::env::temp_dir().join(format!("module-graph-{}", std::process::id()));
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write("lib.rs", "mod a;\nmod b;\nmod c;\n");
    write("a.rs", "use crate::b::Bee;\npub struct Ay;\n");
    write(
        "b.rs",
        "pub struct Bee;\nfn f() { let _ = vec![super::a::Ay]; }\n",
    );
    write("c/mod.rs", "mod d;\npub use d::D;\n");
    write(
        "c/d.rs",
        "use crate::b::Bee;\npub struct D;\n#[cfg(test)]\nmod tests { use crate::c::D; }\n",
    );
    let cycle = ModuleGraph::read(&dir).cycle();
    assert_eq!(cycle.as_deref(), Some("a.rs -[Bee]-> b.rs -[Ay]-> a.rs"));

    write("b.rs", "pub struct Bee;\n");
    assert_eq!(
        ModuleGraph::read(&dir).cycle(),
        None,
        "tests may import anything"
    );

    write("b.rs", "pub struct Bee;\nfn f() { let _ = crate::c::D; }\n");
    let cycle = ModuleGraph::read(&dir).cycle().expect("b -> c -> c/d -> b");
    assert_eq!(cycle, "b.rs -[D]-> c/mod.rs -[D]-> c/d.rs -[Bee]-> b.rs");
    fs::remove_dir_all(&dir).unwrap();
}

/// The module files of one crate and what each imports from the others.
struct ModuleGraph {
    root: PathBuf,
    /// Module path (`["serve", "dispatch"]`) → file.
    modules: BTreeMap<Vec<String>, PathBuf>,
    /// File → its module path.
    files: BTreeMap<PathBuf, Vec<String>>,
    /// File → file → the names the first takes from the second.
    edges: BTreeMap<PathBuf, BTreeMap<PathBuf, Vec<String>>>,
}

impl ModuleGraph {
    fn read(src: &Path) -> Self {
        let mut graph = ModuleGraph {
            root: src.to_owned(),
            modules: BTreeMap::new(),
            files: BTreeMap::new(),
            edges: BTreeMap::new(),
        };
        graph.add_file(src.join("lib.rs"), Vec::new());
        let paths: Vec<(PathBuf, Vec<Vec<String>>)> = graph
            .files
            .iter()
            .map(|(file, module)| (file.clone(), referenced_paths(file, module, &graph.modules)))
            .collect();
        for (file, referenced) in paths {
            for path in referenced {
                if let Some((target, name)) = graph.resolve(&path)
                    && target != file
                {
                    let names = graph
                        .edges
                        .entry(file.clone())
                        .or_default()
                        .entry(target)
                        .or_default();
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
        }
        graph
    }

    /// Registers `file` as module `module`, then its child modules.
    fn add_file(&mut self, file: PathBuf, module: Vec<String>) {
        let text =
            fs::read_to_string(&file).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        let syntax =
            syn::parse_file(&text).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        self.modules.insert(module.clone(), file.clone());
        self.files.insert(file.clone(), module.clone());
        // Children of `lib.rs`/`mod.rs` live beside it; those of `a.rs` in `a/`.
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let dir = if stem == "lib" || stem == "mod" {
            file.parent().unwrap().to_owned()
        } else {
            file.parent().unwrap().join(stem)
        };
        for item in &syntax.items {
            let syn::Item::Mod(child) = item else {
                continue;
            };
            if child.content.is_some() || is_test_only(&child.attrs) {
                continue;
            }
            let name = child.ident.to_string();
            let flat = dir.join(format!("{name}.rs"));
            let nested = dir.join(&name).join("mod.rs");
            let child_file = if flat.exists() { flat } else { nested };
            let mut child_module = module.clone();
            child_module.push(name);
            self.add_file(child_file, child_module);
        }
    }

    /// The file of the deepest module `path` names, and the name it takes
    /// from it (the segment after the module, or the module's own name).
    fn resolve(&self, path: &[String]) -> Option<(PathBuf, String)> {
        (0..=path.len()).rev().find_map(|len| {
            let file = self.modules.get(&path[..len])?;
            let name = path
                .get(len)
                .or_else(|| path.last())
                .cloned()
                .unwrap_or_else(|| "crate".to_owned());
            Some((file.clone(), name))
        })
    }

    /// A cycle of files, as `a.rs -[what a takes from b]-> b.rs -[...]-> a.rs`.
    fn cycle(&self) -> Option<String> {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            Unseen,
            OnPath,
            Done,
        }
        let mut state: BTreeMap<&PathBuf, State> = self
            .files
            .keys()
            .map(|file| (file, State::Unseen))
            .collect();
        let mut path: Vec<&PathBuf> = Vec::new();

        fn visit<'g>(
            graph: &'g ModuleGraph,
            file: &'g PathBuf,
            state: &mut BTreeMap<&'g PathBuf, State>,
            path: &mut Vec<&'g PathBuf>,
        ) -> Option<Vec<&'g PathBuf>> {
            state.insert(file, State::OnPath);
            path.push(file);
            for next in graph
                .edges
                .get(file)
                .into_iter()
                .flat_map(|edges| edges.keys())
            {
                match state.get(next).copied().unwrap_or(State::Done) {
                    State::OnPath => {
                        let start = path.iter().position(|seen| *seen == next).unwrap();
                        let mut cycle = path[start..].to_vec();
                        cycle.push(next);
                        return Some(cycle);
                    }
                    State::Unseen => {
                        if let Some(cycle) = visit(graph, next, state, path) {
                            return Some(cycle);
                        }
                    }
                    State::Done => {}
                }
            }
            path.pop();
            state.insert(file, State::Done);
            None
        }

        for file in self.files.keys() {
            if state[file] == State::Unseen
                && let Some(cycle) = visit(self, file, &mut state, &mut path)
            {
                return Some(self.describe(&cycle));
            }
        }
        None
    }

    fn describe(&self, cycle: &[&PathBuf]) -> String {
        let short = |file: &Path| {
            file.strip_prefix(&self.root)
                .unwrap_or(file)
                .display()
                .to_string()
        };
        let mut text = short(cycle[0]);
        for pair in cycle.windows(2) {
            let names = &self.edges[pair[0]][pair[1]];
            text.push_str(&format!(" -[{}]-> {}", names.join(", "), short(pair[1])));
        }
        text
    }
}

/// Whether `#[cfg(test)]` is among the attributes.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

/// Every `crate::`/`self::`/`super::` path in the non-test code of `file`
/// (module `module`), made absolute (without `crate`).
fn referenced_paths(
    file: &Path,
    module: &[String],
    modules: &BTreeMap<Vec<String>, PathBuf>,
) -> Vec<Vec<String>> {
    let text = fs::read_to_string(file).unwrap();
    let syntax = syn::parse_file(&text).unwrap();
    let mut collector = PathCollector {
        module,
        modules,
        paths: Vec::new(),
    };
    collector.visit_file(&syntax);
    collector.paths
}

struct PathCollector<'a> {
    module: &'a [String],
    modules: &'a BTreeMap<Vec<String>, PathBuf>,
    paths: Vec<Vec<String>>,
}

impl PathCollector<'_> {
    /// Makes `segments` absolute if it starts with `crate`, `self`, `super`
    /// or the name of a child module (`use child::Item` in a `mod.rs`).
    fn add(&mut self, segments: Vec<String>) {
        let mut absolute: Vec<String> = match segments.first().map(String::as_str) {
            Some("crate") => Vec::new(),
            Some("self" | "super") => self.module.to_vec(),
            Some(first) => {
                let mut child = self.module.to_vec();
                child.push(first.to_owned());
                if !self.modules.contains_key(&child) {
                    return;
                }
                self.module.to_vec()
            }
            None => return,
        };
        let mut rest = segments
            .iter()
            .skip(usize::from(segments[0] == "crate"))
            .peekable();
        while let Some(segment) = rest.peek() {
            match segment.as_str() {
                "self" => {}
                "super" => {
                    absolute.pop();
                }
                _ => break,
            }
            rest.next();
        }
        absolute.extend(rest.cloned());
        self.paths.push(absolute);
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                prefix.push(name.ident.to_string());
                self.add(prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Rename(rename) => {
                prefix.push(rename.ident.to_string());
                self.add(prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.add(prefix.clone()),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    /// `crate :: a :: b` sequences inside macro arguments.
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut index = 0;
        while index < trees.len() {
            match &trees[index] {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Ident(ident)
                    if ["crate", "self", "super"].contains(&&*ident.to_string()) =>
                {
                    let mut segments = vec![ident.to_string()];
                    let mut next = index + 1;
                    while let (Some(TokenTree::Punct(colon)), Some(TokenTree::Ident(name))) =
                        (trees.get(next), trees.get(next + 2))
                    {
                        if colon.as_char() != ':' {
                            break;
                        }
                        segments.push(name.to_string());
                        next += 3;
                    }
                    if segments.len() > 1 {
                        self.add(segments);
                    }
                    index = next - 1;
                }
                _ => {}
            }
            index += 1;
        }
    }
}

impl<'ast> Visit<'ast> for PathCollector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(item) => &item.attrs,
            syn::Item::Fn(item) => &item.attrs,
            syn::Item::Impl(item) => &item.attrs,
            syn::Item::Use(item) => &item.attrs,
            syn::Item::Struct(item) => &item.attrs,
            syn::Item::Enum(item) => &item.attrs,
            syn::Item::Const(item) => &item.attrs,
            syn::Item::Static(item) => &item.attrs,
            syn::Item::Trait(item) => &item.attrs,
            syn::Item::Type(item) => &item.attrs,
            syn::Item::Macro(item) => &item.attrs,
            _ => return visit::visit_item(self, item),
        };
        if !is_test_only(attrs) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if !is_test_only(&item.attrs) {
            visit::visit_impl_item_fn(self, item);
        }
    }

    /// `pub(crate)` and `pub(super)` name modules without importing them.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            self.add(path.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }
}
