/** Homework 2's network, and the pictures of it that README.md shows (file, format). */
export const sigmoidChain = {
  network: {
    layers: [
      { weight: 0.25, activation: "sigmoid" },
      { weight: -0.11, activation: "sigmoid" },
      { weight: 0.78, activation: "sigmoid" },
    ],
    loss: "bce",
  },
  input: 0.63,
  target: 1,
};

export const readmePictures = [
  ["docs/sigmoid-chain.svg", "svg"],
  ["docs/sigmoid-chain-norms.svg", "chart"],
] as const;
