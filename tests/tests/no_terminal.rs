//! The full-screen client started without a terminal (stdin from /dev/null, stdout a pipe): it
//! says it needs one and names the CLI commands to use instead, exits 1, and leaves nothing behind
//! (no panic, no half-made local store).

use warren_e2e::cli::Cli;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_without_a_terminal_says_what_to_use_instead() {
    for args in [&["demo"][..], &[][..], &["--theme", "light"][..]] {
        let cli = Cli::bare();
        let out = cli.run(args).await;
        assert_eq!(out.code, 1, "warren {args:?}: {out:#?}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stderr: {out:#?}");
        assert!(lines[0].contains("needs a terminal"), "{out:#?}");
        assert!(lines[0].contains("warren card list"), "{out:#?}");
        assert!(!out.stderr.contains("panicked"), "{out:#?}");
        // Plain `warren` with no server would open a local store under HOME: nothing was made.
        let made: Vec<_> = walk(cli.config_dir());
        assert!(made.is_empty(), "nothing is created: {made:?}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            out.push(entry.path());
            out.extend(walk(&entry.path()));
        }
    }
    out
}
