"""The Block Storage v3 API (Cinder's): handlers per noun, schemas, views, routes."""
