//! [`HubApi`] to TypeScript source.

use std::fmt::Write as _;

use super::declarations::Declarations;
use super::model::{HubApi, MethodApi, ParamApi, Returns, TypeRef};

/// The whole module.
pub(super) fn module(api: &HubApi) -> String {
    let mut declarations = Declarations::new();
    let callbacks = api
        .client
        .as_ref()
        .map_or(&[][..], |client| &client.callbacks);
    for method in api.methods.iter().chain(callbacks) {
        for param in &method.params {
            (param.ty.declare)(&mut declarations);
        }
        if let Returns::Value(ty) | Returns::Stream(ty) = &method.returns {
            (ty.declare)(&mut declarations);
        }
    }
    let uses_streams = api.methods.iter().any(|method| {
        matches!(method.returns, Returns::Stream(_))
            || method.params.iter().any(|param| param.upload)
    });

    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Generated from the Rust hub `{}` by hub-core (`#[hub(typescript)]`). Do not edit: regenerate it.",
        api.name
    );
    let imports = if uses_streams {
        "HubConnection, IStreamResult"
    } else {
        "HubConnection"
    };
    let _ = writeln!(
        out,
        "import type {{ {imports} }} from \"@microsoft/signalr\";"
    );
    let config = super::declarations::config();
    for declaration in declarations.into_declarations() {
        let _ = writeln!(out, "\n{declaration}");
    }
    let config = &config;
    let type_name = |ty: &TypeRef| (ty.name)(config);

    if let Some(client) = &api.client {
        out.push('\n');
        jsdoc(&mut out, "", client.docs);
        let _ = writeln!(out, "export interface {} {{", client.name);
        for callback in &client.callbacks {
            jsdoc(&mut out, "  ", callback.docs);
            let _ = writeln!(
                out,
                "  {}({}): {};",
                property_name(callback.wire_name),
                parameters(&callback.params, &type_name),
                callback_result(&callback.returns, &type_name),
            );
        }
        out.push_str("}\n");
    }

    out.push('\n');
    jsdoc(&mut out, "", api.docs);
    let _ = writeln!(out, "export class {} {{", class_name(api.name));
    out.push_str("  /** The connection the calls and handlers go through. */\n");
    out.push_str("  readonly connection: HubConnection;\n\n");
    out.push_str(
        "  /** The hub's typed calls and handlers on `connection` (built, started or not). */\n",
    );
    out.push_str("  constructor(connection: HubConnection) {\n");
    out.push_str("    this.connection = connection;\n");
    out.push_str("  }\n");

    let calls: Vec<&MethodApi> = api
        .methods
        .iter()
        .filter(|method| !matches!(method.returns, Returns::Stream(_)))
        .collect();
    let streams: Vec<&MethodApi> = api
        .methods
        .iter()
        .filter(|method| matches!(method.returns, Returns::Stream(_)))
        .collect();
    if !calls.is_empty() {
        section(
            &mut out,
            "Invokes a hub method and resolves with its result, or rejects with its error (`HubConnection.invoke`).",
            "invoke",
        );
        for method in &calls {
            let result = value_type(&method.returns, &type_name);
            call(
                &mut out,
                method,
                &format!("Promise<{result}>"),
                &format!("invoke<{result}>"),
                &type_name,
            );
        }
        out.push_str("  };\n");
        section(
            &mut out,
            "Sends a hub method call without waiting for the method; resolves once sent (`HubConnection.send`).",
            "send",
        );
        for method in &calls {
            call(&mut out, method, "Promise<void>", "send", &type_name);
        }
        out.push_str("  };\n");
    }
    if !streams.is_empty() {
        section(
            &mut out,
            "Streams a hub method's items (`HubConnection.stream`); disposing the subscription cancels the stream.",
            "stream",
        );
        for method in &streams {
            let item = value_type(&method.returns, &type_name);
            call(
                &mut out,
                method,
                &format!("IStreamResult<{item}>"),
                &format!("stream<{item}>"),
                &type_name,
            );
        }
        out.push_str("  };\n");
    }

    if let Some(client) = &api.client {
        section(
            &mut out,
            "Handles one client callback; returns a function that removes the handler (`HubConnection.on`/`off`).",
            "on",
        );
        for callback in &client.callbacks {
            jsdoc(&mut out, "    ", callback.docs);
            let _ = writeln!(
                out,
                "    {}: (handler: ({}) => {}): (() => void) =>\n      this.handle({}, handler),",
                property_name(callback.wire_name),
                parameters(&callback.params, &type_name),
                callback_result(&callback.returns, &type_name),
                string_literal(callback.wire_name),
            );
        }
        out.push_str("  };\n\n");
        let _ = writeln!(
            out,
            "  /** Handles every client callback with `client`; returns a function that removes the handlers. */"
        );
        let _ = writeln!(out, "  register(client: {}): () => void {{", client.name);
        out.push_str("    const removers: Array<() => void> = [\n");
        for callback in &client.callbacks {
            let name = property_name(callback.wire_name);
            let _ = writeln!(
                out,
                "      this.on{}((...args) => client{}(...args)),",
                member(&name),
                member(&name)
            );
        }
        out.push_str("    ];\n");
        out.push_str("    return () => removers.forEach((remove) => remove());\n");
        out.push_str("  }\n\n");
        out.push_str(
            "  private handle(method: string, handler: (...args: any[]) => any): () => void {\n",
        );
        out.push_str("    this.connection.on(method, handler);\n");
        out.push_str("    return () => this.connection.off(method, handler);\n");
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

/// Opens `readonly <name> = {`, documented.
fn section(out: &mut String, doc: &str, name: &str) {
    out.push('\n');
    let _ = writeln!(out, "  /** {doc} */");
    let _ = writeln!(out, "  readonly {name} = {{");
}

/// One wrapper: `name: (params): Result =>\n this.connection.<function>("Wire", args),`.
fn call(
    out: &mut String,
    method: &MethodApi,
    result: &str,
    function: &str,
    type_name: &impl Fn(&TypeRef) -> String,
) {
    jsdoc(out, "    ", method.docs);
    let mut arguments = String::new();
    for name in parameter_names(&method.params) {
        arguments.push_str(", ");
        arguments.push_str(&name);
    }
    let _ = writeln!(
        out,
        "    {}: ({}): {result} =>\n      this.connection.{function}({}{arguments}),",
        property_name(method.wire_name),
        parameters(&method.params, type_name),
        string_literal(method.wire_name),
    );
}

/// `name: Type, other: Other` (an upload stream is an `IStreamResult`, e.g. a
/// `Subject` of the client).
fn parameters(params: &[ParamApi], type_name: &impl Fn(&TypeRef) -> String) -> String {
    params
        .iter()
        .zip(parameter_names(params))
        .map(|(param, name)| {
            let ty = type_name(&param.ty);
            if param.upload {
                format!("{name}: IStreamResult<{ty}>")
            } else {
                format!("{name}: {ty}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parameters' TypeScript names: camelCase, never a reserved word, unique.
fn parameter_names(params: &[ParamApi]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(params.len());
    for param in params {
        let mut name = camel_case(param.rust_name.trim_start_matches("r#"));
        if !is_identifier(&name) {
            name = format!("arg{}", names.len());
        }
        if RESERVED.contains(&name.as_str()) {
            name.push('_');
        }
        while names.contains(&name) {
            name.push('_');
        }
        names.push(name);
    }
    names
}

/// The type a call resolves with.
fn value_type(returns: &Returns, type_name: &impl Fn(&TypeRef) -> String) -> String {
    match returns {
        Returns::Nothing => "void".to_owned(),
        Returns::Value(ty) | Returns::Stream(ty) => type_name(ty),
    }
}

/// What a client callback handler returns: its result (a client result),
/// directly or through a promise.
fn callback_result(returns: &Returns, type_name: &impl Fn(&TypeRef) -> String) -> String {
    match returns {
        Returns::Nothing => "void".to_owned(),
        Returns::Value(ty) | Returns::Stream(ty) => {
            let ty = type_name(ty);
            format!("{ty} | Promise<{ty}>")
        }
    }
}

/// `Chat` → `ChatHub`; `ChatHub` stays.
fn class_name(trait_name: &str) -> String {
    if trait_name.ends_with("Hub") {
        trait_name.to_owned()
    } else {
        format!("{trait_name}Hub")
    }
}

/// The property for a wire name: `SendMessage` → `sendMessage`; a wire name
/// that is no identifier once camelCased is quoted.
fn property_name(wire_name: &str) -> String {
    let mut chars = wire_name.chars();
    let name = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    if is_identifier(&name) {
        name
    } else {
        string_literal(wire_name)
    }
}

/// `.name` for an identifier, `["na-me"]` for a quoted property.
fn member(property: &str) -> String {
    if property.starts_with('"') {
        format!("[{property}]")
    } else {
        format!(".{property}")
    }
}

/// `send_message` → `sendMessage`.
fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    for (index, word) in snake.split('_').filter(|word| !word.is_empty()).enumerate() {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if index == 0 {
                out.extend(first.to_lowercase());
            } else {
                out.extend(first.to_uppercase());
            }
            out.push_str(chars.as_str());
        }
    }
    out
}

/// An ASCII identifier (`[A-Za-z_$][A-Za-z0-9_$]*`).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A double-quoted string literal.
fn string_literal(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A JSDoc comment from doc lines, at `indent`.
fn jsdoc(out: &mut String, indent: &str, docs: &[&str]) {
    let lines: Vec<String> = docs
        .iter()
        .flat_map(|doc| doc.split('\n'))
        .map(|line| {
            let line = line.trim_end();
            line.strip_prefix(' ').unwrap_or(line).replace("*/", "*\\/")
        })
        .collect();
    let first = lines.iter().position(|line| !line.trim().is_empty());
    let last = lines.iter().rposition(|line| !line.trim().is_empty());
    let (Some(first), Some(last)) = (first, last) else {
        return;
    };
    let lines = &lines[first..=last];
    if let [line] = lines {
        let _ = writeln!(out, "{indent}/** {line} */");
        return;
    }
    let _ = writeln!(out, "{indent}/**");
    for line in lines {
        if line.is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {line}");
        }
    }
    let _ = writeln!(out, "{indent} */");
}

/// Words that cannot name a parameter in strict-mode TypeScript.
const RESERVED: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(camel_case("send_message"), "sendMessage");
        assert_eq!(camel_case("delay_ms"), "delayMs");
        assert_eq!(property_name("SendMessage"), "sendMessage");
        assert_eq!(property_name("send-message"), "\"send-message\"");
        assert_eq!(member("\"send-message\""), "[\"send-message\"]");
        assert_eq!(class_name("Chat"), "ChatHub");
        assert_eq!(class_name("ChatHub"), "ChatHub");
    }

    #[test]
    fn jsdoc_formats_lines() {
        let mut out = String::new();
        jsdoc(&mut out, "", &[" One line."]);
        assert_eq!(out, "/** One line. */\n");
        let mut out = String::new();
        jsdoc(&mut out, "  ", &[" First.", "", " Ends */ here."]);
        assert_eq!(
            out,
            "  /**\n   * First.\n   *\n   * Ends *\\/ here.\n   */\n"
        );
    }
}
