//! Sources that feed the sender: JSON lines on stdin and a watched export
//! directory. (Exports given on the command line and webhooks live in
//! `export` and `relay`.)

pub mod stdin;
pub mod watch;
