//! Tests of the log viewer: ANSI safety, matching and levels, update logic over a
//! million-line source, and insta snapshots of the widget at 80x24.

mod ansi;
mod fixture;
mod incremental;
mod matching;
mod render;
mod update;
