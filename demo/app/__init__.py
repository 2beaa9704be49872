"""The interactive app (pygame window + ModernGL): numpy in, pixels out; never touches torch."""
