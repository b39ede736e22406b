"""The web console: Jinja2 pages (plain Leaflet, assets served from web/static) and the map layers
(GeoJSON and Mapbox vector tiles) they draw."""
