let moisture = (B8A - B11) / (B8A + B11);
let grey = 0.5 + moisture / 2;
return [grey];
