"""Render and Vercel read by the suite itself (`render`, `render_metrics`, `vercel`,
`vercel_cli`, the log drain's `drain`), what a run fetches (`fetch`), the snapshots it keeps
(`snapshots`), the heartbeats that prove a log's gaps (`heartbeats`) and `--replay` (`replay`)."""
