// A simple script: statements over band names, helpers allowed, a return at the end.
var ndvi = index(B08, B04);
return colorBlend(ndvi,
  [0.0, 0.5, 1.0],
  [[1, 0, 0], [1, 1, 0], [0, 0.5, 0]]);
