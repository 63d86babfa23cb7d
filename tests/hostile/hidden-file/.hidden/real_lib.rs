// The plugin source a `[lib] path = ".hidden/real_lib.rs"` would build: bound like any other file.
