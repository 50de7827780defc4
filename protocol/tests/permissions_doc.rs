//! `docs/permissions.md` shows exactly the permission table the server enforces: its generated
//! part is `permission::markdown()`. `WARREN_UPDATE_DOCS=1 cargo test -p warren-protocol`
//! rewrites it.

const MARK: &str = "<!-- generated from protocol/src/permission.rs; do not edit below -->\n";

#[test]
fn the_permissions_doc_is_the_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/permissions.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let head = doc.split(MARK).next().unwrap_or_default();
    let wanted = format!("{head}{MARK}{}", warren_protocol::permission::markdown());
    if std::env::var_os("WARREN_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &wanted).expect("write docs/permissions.md");
        return;
    }
    assert!(
        doc == wanted,
        "docs/permissions.md is out of date; run WARREN_UPDATE_DOCS=1 cargo test -p warren-protocol"
    );
}
