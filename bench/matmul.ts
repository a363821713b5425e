console.log("bench/matmul: not yet");
