"""Opt-in Regions: the Regions an account must enable before it can call them."""

# Regions an account must enable before it can call them (AWS Account Management, "opt-in
# Regions"); every other Region is enabled in every account.
OPT_IN_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
    "me-central-1", "me-south-1", "mx-central-1",
})
