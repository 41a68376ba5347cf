"""What may leave: the released tables and their disclosure checks (`outputs`, `bundle`,
`disclosure`), provenance and the comparison of snapshots."""
