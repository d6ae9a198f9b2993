#!/usr/bin/env node
// The command runs the built CLI. It is a file of its own, not dist/cli.js itself, because npm links
// a package's commands before the root's prepare script builds dist/: a missing target is not linked.
await import('../dist/cli.js');
