"""Local AWS emulator for the Identity Center audit: moto plus the parts moto lacks.

Modules: scenario (load and check scenario files), world (the loaded organization and its
insertion into moto's backends), ids (identifiers derived from names), errors (each
protocol's error shapes), sso_admin, permission_sets, identity_store and organizations
(operations and visibility rules, answered directly or registered on moto's response
classes), control (faults, rate limit, stats) and gateway (the layer in front of moto that
ties them together and serves the /_emulator/ admin API).
"""
