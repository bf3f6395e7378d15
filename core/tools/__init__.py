"""The analytics tool catalogue: every question of the spec as a typed, scope-checked tool."""
