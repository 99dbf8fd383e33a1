//! `gen-typescript`: writes the TypeScript module of each sample hub into
//! `samples/typescript/` (files already up to date are left untouched).

fn main() -> std::io::Result<()> {
    let directory = samples::typescript::directory();
    for (file, api) in samples::typescript::modules() {
        let path = directory.join(file);
        api.write(&path)?;
        println!("samples/typescript/{file}: the `{}` hub", api.name());
    }
    Ok(())
}
