"""The training file (培训档案): a read model over every fact source (records, check-in,
plans, evidence), so it sits above them in the apps' order."""
