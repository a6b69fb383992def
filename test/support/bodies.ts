/** Homework 1 as a /v1/gradients body without a learning rate: the request most tests start from. */
export const homework1 = {
  network: {
    layers: [
      {
        weight: [
          [0.3, 0.5],
          [-0.2, 0.4],
        ],
      },
    ],
    loss: "sse",
  },
  input: [
    [0, 2],
    [3, 1],
  ],
  target: [
    [0.5, 1],
    [1, -1.5],
  ],
};
