"""The register of people, houses and organisations (一标三实), kept current through reviewed proposals (docs/register.md)."""
