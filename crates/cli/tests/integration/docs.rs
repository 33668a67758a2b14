//! What a newcomer reads first says where the binary is and how to install it, and the demo
//! says what it is doing while the release build runs.

use std::path::PathBuf;

fn repo_file(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap()
}

#[test]
fn readme_says_where_the_binary_is_and_how_to_install_it() {
    let readme = repo_file("README.md");
    assert!(
        readme.contains("target/release/shardslap"),
        "no binary path"
    );
    assert!(
        readme.contains("cargo install --path crates/cli"),
        "no install command"
    );
}

#[test]
fn demo_announces_the_release_build_before_it_starts() {
    let demo = repo_file("scripts/demo.sh");
    let build = demo
        .find("cargo build --release")
        .expect("demo.sh builds the release binary");
    let announce = demo
        .find("demo: building the release binary")
        .expect("demo.sh says it is building");
    assert!(announce < build, "the message comes before the build");
    // Not --quiet alone without a word: the build line is followed by where the binary is.
    assert!(demo[build..].contains("demo: built target/release/shardslap"));
}
