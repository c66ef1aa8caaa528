-- License Consumption flags a product as under-used below this share of its licences assigned;
-- a setting of the catalog, so a customer can have its own. The same in both dialects.
INSERT INTO settings (key, position, category, label, help, kind_json, default_value) VALUES
('reports.under_used_percent', 400, 'Reports',
 'Under-used below',
 'A product whose assigned licences are below this share of those purchased is flagged under-used in License Consumption. 0 flags nothing.',
 '{"type":"decimal","min":"0","max":"100","scale":0,"percent":true}', '50');
